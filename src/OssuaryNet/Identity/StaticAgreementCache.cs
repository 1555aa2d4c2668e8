using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Identity;

/// <summary>
/// The last few static-static DH results of one key pair, keyed by the peer's public key. Initiators only: they
/// choose whom to contact, so whether a result was cached tells an observer nothing. A responder that cached would
/// answer a claimed client key measurably faster when that client had connected before (one X25519 operation, about
/// 30 µs), which would let anyone probe who uses a server, so responders always compute.
/// </summary>
internal sealed class StaticAgreementCache : IDisposable
{
    private const int Slots = 4;
    private const int Entry = 2 * X25519.KeySize; // peer public key || shared secret

    private readonly object _lock = new();
    private byte[]? _entries; // pinned, allocated at the first result: servers never pay for it
    private int _count, _next;
    private bool _disposed;

    /// <summary>Results computed (cache misses) so far.</summary>
    public int Computed { get; private set; }

    public bool TryGet(ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int i = 0; i < _count; i++)
            {
                Span<byte> entry = _entries.AsSpan(i * Entry, Entry);
                if (entry[..X25519.KeySize].SequenceEqual(peerPublicKey))
                {
                    entry[X25519.KeySize..].CopyTo(sharedSecret);
                    return true;
                }
            }
            return false;
        }
    }

    public void Add(ReadOnlySpan<byte> peerPublicKey, ReadOnlySpan<byte> sharedSecret)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Computed++;
            _entries ??= SecretMemory.Allocate(Slots * Entry);
            Span<byte> entry = _entries.AsSpan(_next * Entry, Entry);
            peerPublicKey.CopyTo(entry);
            sharedSecret.CopyTo(entry[X25519.KeySize..]);
            _next = (_next + 1) % Slots;
            _count = Math.Min(_count + 1, Slots);
        }
    }

    /// <summary>Wipes every result; later use throws.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            CryptographicOperations.ZeroMemory(_entries);
            _count = 0;
        }
    }

    /// <summary>True when no byte of the storage is set (tests check the wipe).</summary>
    internal bool IsWiped
    {
        get
        {
            lock (_lock)
            {
                return _entries is null || !_entries.AsSpan().ContainsAnyExcept((byte)0);
            }
        }
    }
}
