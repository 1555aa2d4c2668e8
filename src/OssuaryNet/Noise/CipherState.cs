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
/// </remarks>
internal sealed class CipherState : IDisposable
{
    /// <summary>The reserved nonce, used only by REKEY.</summary>
    public const ulong ReservedNonce = ulong.MaxValue;

    private readonly NoiseCipher _cipher;
    private AeadKey? _key;

    public CipherState(NoiseCipher cipher) => _cipher = cipher;

    /// <summary>Whether a key has been set (before that, ENCRYPT and DECRYPT pass data through unchanged).</summary>
    public bool HasKey => _key is not null;

    /// <summary>The next nonce. Setting it is SetNonce() from the spec, used by tests and by nonce-exhaustion checks.</summary>
    public ulong Nonce { get; set; }

    /// <summary>InitializeKey(k): sets the key and resets the nonce to zero.</summary>
    public void InitializeKey(ReadOnlySpan<byte> key)
    {
        if (_key is null)
        {
            _key = _cipher.CreateKey(key[..AeadKey.KeySize]);
        }
        else
        {
            _key.Replace(key[..AeadKey.KeySize]);
        }
        Nonce = 0;
    }

    /// <summary>Bytes ENCRYPT adds to a plaintext under the current key.</summary>
    public int Overhead => HasKey ? AeadKey.TagSize : 0;

    /// <summary>EncryptWithAd: writes plaintext.Length + <see cref="Overhead"/> bytes; returns that count.</summary>
    public int EncryptWithAd(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        if (_key is null)
        {
            plaintext.CopyTo(ciphertext);
            return plaintext.Length;
        }
        ThrowIfExhausted();
        int length = plaintext.Length + AeadKey.TagSize;
        _key.Seal(Nonce, associatedData, plaintext, ciphertext[..length]);
        Nonce++;
        return length;
    }

    /// <summary>
    /// DecryptWithAd: on success writes ciphertext.Length - <see cref="Overhead"/> bytes and advances the nonce;
    /// on failure returns false and changes nothing.
    /// </summary>
    public bool TryDecryptWithAd(ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext, out int written)
    {
        if (_key is null)
        {
            ciphertext.CopyTo(plaintext);
            written = ciphertext.Length;
            return true;
        }
        ThrowIfExhausted();
        written = 0;
        if (ciphertext.Length < AeadKey.TagSize)
        {
            return false;
        }
        int length = ciphertext.Length - AeadKey.TagSize;
        if (!_key.Open(Nonce, associatedData, ciphertext, plaintext[..length]))
        {
            return false;
        }
        Nonce++;
        written = length;
        return true;
    }

    /// <summary>REKEY() (spec section 11.3).</summary>
    public void Rekey()
    {
        if (_key is null)
        {
            throw new InvalidOperationException("REKEY needs a key.");
        }
        Span<byte> zeros = stackalloc byte[AeadKey.KeySize];
        Span<byte> sealedZeros = stackalloc byte[AeadKey.KeySize + AeadKey.TagSize];
        zeros.Clear();
        try
        {
            _key.Seal(ReservedNonce, default, zeros, sealedZeros);
            _key.Replace(sealedZeros[..AeadKey.KeySize]);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(sealedZeros);
        }
    }

    public void Dispose()
    {
        _key?.Dispose();
        _key = null;
    }

    private void ThrowIfExhausted()
    {
        if (Nonce == ReservedNonce)
        {
            throw new OssuaryException(OssuaryErrorCode.NonceExhausted, "The cipher's nonce space is exhausted; the connection must be replaced.");
        }
    }
}
