using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// A Noise CipherState (spec section 5.1): a key k (possibly empty) and a 64-bit nonce n.
/// </summary>
/// <remarks>
/// ENCRYPT and DECRYPT use n and then increment it; n = 2^64-1 is reserved (spec section 5.1), so reaching it
/// fails with <see cref="OssuaryErrorCode.NonceExhausted"/>. Decryption is transactional: when authentication
/// fails, n does not move and nothing is released, so a forged or replayed message cannot desynchronise the
/// session. REKEY sets k = ENCRYPT(k, 2^64-1, empty, 32 zero bytes) truncated to 32 bytes, leaving n as it is.
/// The key is kept in 32 bytes of a pinned block that the owner of this state provides (and wipes), so that the
/// keys of a handshake or of a connection share one allocation.
/// </remarks>
internal sealed class CipherState : IDisposable
{
    /// <summary>The reserved nonce, used only by REKEY.</summary>
    public const ulong ReservedNonce = ulong.MaxValue;

    private readonly NoiseCipher _cipher;
    private readonly int _keyOffset;
    private byte[]? _storage; // null once disposed
    private bool _hasKey;
    private IDisposable? _backend;

    /// <summary>A state whose key lives at <paramref name="keyOffset"/> in <paramref name="storage"/> (pinned, owned by the caller).</summary>
    public CipherState(NoiseCipher cipher, byte[] storage, int keyOffset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keyOffset, storage.Length - NoiseCipher.KeySize);
        _cipher = cipher;
        _storage = storage;
        _keyOffset = keyOffset;
    }

    /// <summary>A state with a key block of its own.</summary>
    public CipherState(NoiseCipher cipher)
        : this(cipher, SecretMemory.Allocate(NoiseCipher.KeySize), 0)
    {
    }

    /// <summary>Whether a key has been set (before that, ENCRYPT and DECRYPT pass data through unchanged).</summary>
    public bool HasKey => _hasKey;

    /// <summary>The next nonce. Setting it is SetNonce() from the spec, used by tests and by nonce-exhaustion checks.</summary>
    public ulong Nonce { get; set; }

    /// <summary>Bytes ENCRYPT adds to a plaintext under the current key.</summary>
    public int Overhead => _hasKey ? NoiseCipher.TagSize : 0;

    private Span<byte> Key => (_storage ?? throw new ObjectDisposedException(nameof(CipherState))).AsSpan(_keyOffset, NoiseCipher.KeySize);

    /// <summary>InitializeKey(k): sets the key and resets the nonce to zero.</summary>
    public void InitializeKey(ReadOnlySpan<byte> key)
    {
        key[..NoiseCipher.KeySize].CopyTo(Key);
        ReleaseBackend(); // it was built from the previous key
        _hasKey = true;
        Nonce = 0;
    }

    /// <summary>EncryptWithAd: writes plaintext.Length + <see cref="Overhead"/> bytes; returns that count.</summary>
    public int EncryptWithAd(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> key = Key;
        if (!_hasKey)
        {
            plaintext.CopyTo(ciphertext);
            return plaintext.Length;
        }
        ThrowIfExhausted();
        int length = plaintext.Length + NoiseCipher.TagSize;
        _cipher.Seal(key, ref _backend, Nonce, associatedData, plaintext, ciphertext[..length]);
        Nonce++;
        return length;
    }

    /// <summary>
    /// DecryptWithAd: on success writes ciphertext.Length - <see cref="Overhead"/> bytes and advances the nonce;
    /// on failure returns false and changes nothing.
    /// </summary>
    public bool TryDecryptWithAd(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        Span<byte> key = Key;
        if (!_hasKey)
        {
            ciphertext.CopyTo(plaintext);
            written = ciphertext.Length;
            return true;
        }
        ThrowIfExhausted();
        written = 0;
        if (ciphertext.Length < NoiseCipher.TagSize)
        {
            return false;
        }
        int length = ciphertext.Length - NoiseCipher.TagSize;
        if (!_cipher.Open(key, ref _backend, Nonce, associatedData, ciphertext, plaintext[..length]))
        {
            return false;
        }
        Nonce++;
        written = length;
        return true;
    }

    /// <summary>The key-presence flag and nonce (the key itself lives in the owner's block), for a transactional handshake read.</summary>
    public (bool HasKey, ulong Nonce) SaveCounters() => (_hasKey, Nonce);

    /// <summary>Puts back what <see cref="SaveCounters"/> saved after the owner restored the key bytes; the cached cipher object may belong to another key, so it goes.</summary>
    public void RestoreCounters((bool HasKey, ulong Nonce) saved)
    {
        ReleaseBackend();
        (_hasKey, Nonce) = saved;
    }

    /// <summary>REKEY() (spec section 11.3).</summary>
    public void Rekey()
    {
        Span<byte> key = Key;
        if (!_hasKey)
        {
            throw new InvalidOperationException("REKEY needs a key.");
        }
        Span<byte> zeros = stackalloc byte[NoiseCipher.KeySize];
        Span<byte> sealedZeros = stackalloc byte[NoiseCipher.KeySize + NoiseCipher.TagSize];
        zeros.Clear();
        try
        {
            _cipher.Seal(key, ref _backend, ReservedNonce, default, zeros, sealedZeros);
            sealedZeros[..NoiseCipher.KeySize].CopyTo(key);
            ReleaseBackend();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sealedZeros);
        }
    }

    /// <summary>Wipes the key; every later use throws <see cref="ObjectDisposedException"/> (never passes data through).</summary>
    public void Dispose()
    {
        if (_storage is not null)
        {
            CryptographicOperations.ZeroMemory(Key);
            _storage = null;
        }
        ReleaseBackend();
        _hasKey = false;
    }

    private void ReleaseBackend()
    {
        _backend?.Dispose();
        _backend = null;
    }

    private void ThrowIfExhausted()
    {
        if (Nonce == ReservedNonce)
        {
            throw new OssuaryException(OssuaryErrorCode.NonceExhausted, "The cipher's nonce space is exhausted; the connection must be replaced.");
        }
    }
}
