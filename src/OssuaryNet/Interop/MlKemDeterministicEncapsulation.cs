using System.Runtime.InteropServices;

namespace OssuaryNet.Interop;

/// <summary>
/// libsodium's <c>crypto_kem_mlkem768_enc_deterministic</c>, bound directly because Geralt 4.5.0 exposes only the
/// randomised encapsulation. It is used only where the 32-byte FIPS 203 message m is given, which is for published
/// test vectors: every real handshake encapsulates through Geralt with fresh randomness.
/// </summary>
internal static partial class MlKemDeterministicEncapsulation
{
    // The libsodium 1.0.22 that Geralt loads (from the libsodium package); a NativeAOT build links the same one.
    [LibraryImport("libsodium", EntryPoint = "crypto_kem_mlkem768_enc_deterministic")]
    private static partial int Encapsulate(Span<byte> ciphertext, Span<byte> sharedSecret, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> seed);

    // Geralt initialises libsodium before its own calls but does not expose that step; sodium_init is idempotent and
    // thread-safe, and returns 1 when libsodium was initialised already.
    [LibraryImport("libsodium", EntryPoint = "sodium_init")]
    private static partial int Initialize();

    /// <summary>Encapsulates to <paramref name="publicKey"/> with the message <paramref name="seed"/>; false when libsodium refuses the key.</summary>
    public static bool TryEncapsulate(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> seed, Span<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (publicKey.Length != 1184 || seed.Length != 32 || ciphertext.Length != 1088 || sharedSecret.Length != 32)
        {
            throw new ArgumentException("ML-KEM-768 takes a 1184-byte public key and a 32-byte seed, and gives 1088 + 32 bytes.");
        }
        if (Initialize() < 0)
        {
            throw new InvalidOperationException("libsodium could not be initialised.");
        }
        return Encapsulate(ciphertext, sharedSecret, publicKey, seed) == 0;
    }
}
