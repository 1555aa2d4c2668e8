using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// The result of a finished handshake: one CipherState per direction and the handshake hash for channel binding.
/// (The peer's static key is read from the handshake before it is split.) Both keys and the hash share one pinned
/// block from <see cref="SecretBlockPool.Transport"/>, which is all the key memory an established connection holds.
/// </summary>
/// <remarks>
/// Invariant: after <see cref="Dispose"/> the block is wiped and back in the pool (another connection may hold it),
/// so nothing reads it any more: the cipher states throw and <see cref="HandshakeHash"/> is empty. Callers must not
/// dispose a transport while another thread uses it (<see cref="OssuaryStream"/> waits for its reader and writer).
/// </remarks>
internal sealed class NoiseTransport : IDisposable
{
    private const int SendKeyOffset = 0, ReceiveKeyOffset = NoiseCipher.KeySize, HashOffset = 2 * NoiseCipher.KeySize;

    private byte[]? _memory;
    private readonly int _hashLength;

    /// <summary>Copies both keys and the handshake hash into a pooled block; the caller wipes its copies.</summary>
    public NoiseTransport(NoiseCipher cipher, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, ReadOnlySpan<byte> handshakeHash)
    {
        _memory = SecretBlockPool.Transport.Rent();
        _hashLength = handshakeHash.Length;
        handshakeHash.CopyTo(_memory.AsSpan(HashOffset));
        Send = new CipherState(cipher, _memory, SendKeyOffset);
        Receive = new CipherState(cipher, _memory, ReceiveKeyOffset);
        Send.InitializeKey(sendKey);
        Receive.InitializeKey(receiveKey);
    }

    /// <summary>Encrypts what this side sends.</summary>
    public CipherState Send { get; }

    /// <summary>Decrypts what the peer sends.</summary>
    public CipherState Receive { get; }

    /// <summary>The final handshake hash h; unique to this session and safe to reveal. Empty once disposed.</summary>
    public ReadOnlySpan<byte> HandshakeHash => _memory is { } memory ? memory.AsSpan(HashOffset, _hashLength) : default;

    /// <summary>Wipes both keys and the hash and gives the block back to the pool.</summary>
    public void Dispose()
    {
        Send.Dispose();
        Receive.Dispose();
        if (_memory is { } memory)
        {
            _memory = null;
            SecretBlockPool.Transport.Return(memory);
        }
    }
}
