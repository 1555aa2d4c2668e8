namespace OssuaryNet.Crypto;

/// <summary>
/// One AEAD key, ready to seal and open under the Noise nonce encoding of its cipher. Owning the key in an
/// object lets a backend keep expensive per-key state (OpenSSL's context for AES-GCM) between records.
/// </summary>
internal abstract class AeadKey : IDisposable
{
    /// <summary>Size of the authentication tag appended to every ciphertext.</summary>
    public const int TagSize = 16;

    /// <summary>Size of every key.</summary>
    public const int KeySize = 32;

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16); they may be the same memory.</summary>
    public abstract void Seal(ulong nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext);

    /// <summary>
    /// Verifies and decrypts; returns false on any authentication failure, in which case <paramref name="plaintext"/>
    /// (ciphertext length - 16) holds nothing derived from the ciphertext. The buffers may be the same memory.
    /// </summary>
    public abstract bool Open(ulong nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext);

    /// <summary>Replaces the key in place (used by REKEY), wiping the old one.</summary>
    public abstract void Replace(ReadOnlySpan<byte> newKey);

    /// <summary>Wipes the key.</summary>
    public abstract void Dispose();
}
