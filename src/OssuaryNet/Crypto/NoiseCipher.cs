namespace OssuaryNet.Crypto;

/// <summary>
/// A Noise cipher function (spec section 4.2): one AEAD and its nonce encoding. Instances are stateless singletons;
/// the key lives in the caller's (pinned) memory, and whatever per-key state a backend needs (OpenSSL's context)
/// lives in the caller's <c>backend</c> slot, created on first use and disposed by the caller when the key changes.
/// Keeping keys out of per-key objects is what lets one handshake allocate a handful of objects rather than dozens.
/// </summary>
internal abstract class NoiseCipher
{
    /// <summary>Size of every key.</summary>
    public const int KeySize = 32;

    /// <summary>Size of the authentication tag appended to every ciphertext.</summary>
    public const int TagSize = 16;

    /// <summary>The name used in Noise protocol names, e.g. "ChaChaPoly".</summary>
    public abstract string Name { get; }

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16); they may be the same memory.</summary>
    public abstract void Seal(ReadOnlySpan<byte> key, ref IDisposable? backend, ulong nonce,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext);

    /// <summary>
    /// Verifies and decrypts; returns false on any authentication failure, in which case <paramref name="plaintext"/>
    /// (ciphertext length - 16) holds nothing derived from the ciphertext. The buffers may be the same memory.
    /// </summary>
    public abstract bool Open(ReadOnlySpan<byte> key, ref IDisposable? backend, ulong nonce,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext);
}
