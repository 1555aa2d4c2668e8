using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>
/// The primitives OssuaryNet builds on, in one place: X25519, ChaCha20-Poly1305, BLAKE2b, random bytes from Geralt
/// (libsodium 1.0.22, which the <c>libsodium</c> NuGet package ships for every platform, so no system libsodium is
/// needed); SHA-256 from .NET, which Geralt does not offer. Nothing here allocates per call.
/// </summary>
internal static class Primitives
{
    public const int X25519KeySize = Geralt.X25519.PrivateKeySize;
    public const int ChaChaPolyKeySize = Geralt.ChaCha20Poly1305.KeySize;
    public const int ChaChaPolyNonceSize = Geralt.ChaCha20Poly1305.NonceSize;
    public const int AeadTagSize = Geralt.ChaCha20Poly1305.TagSize;
    public const int Blake2bMaxOutput = Geralt.BLAKE2b.MaxHashSize;
    public const int Sha256Output = 32;

    // One incremental state per thread, reinitialised for every hash: a state object per call would allocate.
    [ThreadStatic]
    private static Geralt.IncrementalBLAKE2b? t_blake2b;

    [ThreadStatic]
    private static IncrementalHash? t_sha256;

    /// <summary>Fills <paramref name="buffer"/> from the operating system's CSPRNG (libsodium's randombytes).</summary>
    public static void RandomBytes(Span<byte> buffer) => Geralt.SecureRandom.Fill(buffer);

    /// <summary>The X25519 public key of <paramref name="privateKey"/>.</summary>
    public static void X25519Base(ReadOnlySpan<byte> privateKey, Span<byte> publicKey) => Geralt.X25519.ComputePublicKey(publicKey, privateKey);

    /// <summary>X25519(private, public); false (with the output wiped) when the result is all zeros, i.e. the peer key has low order.</summary>
    public static bool X25519(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        try
        {
            Geralt.X25519.ComputeSharedSecret(sharedSecret, privateKey, publicKey);
            return true;
        }
        catch (CryptographicException)
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
            return false;
        }
    }

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="ciphertext"/> (plaintext length + 16); may be in place.</summary>
    public static void ChaChaPolySeal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext) =>
        Geralt.ChaCha20Poly1305.Encrypt(ciphertext[..(plaintext.Length + AeadTagSize)], plaintext, nonce, key, associatedData);

    /// <summary>Opens <paramref name="ciphertext"/>; false (with the plaintext wiped) when the tag does not verify. May be in place.</summary>
    public static bool ChaChaPolyOpen(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Span<byte> output = plaintext[..(ciphertext.Length - AeadTagSize)];
        try
        {
            Geralt.ChaCha20Poly1305.Decrypt(output, ciphertext, nonce, key, associatedData);
            return true;
        }
        catch (CryptographicException)
        {
            CryptographicOperations.ZeroMemory(output);
            return false;
        }
    }

    /// <summary>BLAKE2b-512 over the concatenation of up to three parts.</summary>
    public static void Blake2b(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
    {
        Geralt.IncrementalBLAKE2b state = t_blake2b ??= new Geralt.IncrementalBLAKE2b(Blake2bMaxOutput, default, default, default);
        state.Reinitialize(Blake2bMaxOutput, default, default, default);
        state.Update(a);
        state.Update(b);
        state.Update(c);
        state.Finalize(output[..Blake2bMaxOutput]);
        // The state held HMAC pads derived from keys: leave a fresh one behind.
        state.Reinitialize(Blake2bMaxOutput, default, default, default);
    }

    /// <summary>Keyed BLAKE2b (a MAC) of <paramref name="message"/>; tag of 16 to 64 bytes, key of 16 to 64 bytes.</summary>
    public static void Blake2bTag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, Span<byte> tag) =>
        Geralt.BLAKE2b.ComputeTag(tag, message, key);

    /// <summary>Checks a keyed BLAKE2b tag in constant time.</summary>
    public static bool Blake2bTagMatches(ReadOnlySpan<byte> key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> tag) =>
        Geralt.BLAKE2b.VerifyTag(tag, message, key);

    /// <summary>Unkeyed BLAKE2b of <paramref name="message"/> with an output of 16 to 64 bytes.</summary>
    public static void Blake2bHash(ReadOnlySpan<byte> message, Span<byte> hash) => Geralt.BLAKE2b.ComputeHash(hash, message);

    /// <summary>SHA-256 over the concatenation of up to three parts.</summary>
    public static void Sha256(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
    {
        IncrementalHash state = t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        state.AppendData(a);
        state.AppendData(b);
        state.AppendData(c);
        state.GetHashAndReset(output[..Sha256Output]); // resetting also drops the key-derived pads
    }
}
