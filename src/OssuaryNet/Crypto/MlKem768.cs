using System.Security.Cryptography;
using OssuaryNet.Interop;

namespace OssuaryNet.Crypto;

/// <summary>
/// FIPS 203 ML-KEM-768 for Noise HFS (the "MLKEM768" KEM of a protocol name such as
/// "Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b"), through libsodium 1.0.22.
/// </summary>
internal static class MlKem768
{
    public const int PublicKeySize = 1184, SecretKeySize = 2400, CiphertextSize = 1088, SharedSecretSize = 32;

    /// <summary>The FIPS 203 key generation seed d ‖ z, and the encapsulation message m.</summary>
    public const int KeyPairSeedSize = 64, EncapsulationSeedSize = 32;

    /// <summary>A fresh key pair from the system CSPRNG, or the one <paramref name="seed"/> (d ‖ z) determines.</summary>
    public static void GenerateKeyPair(Span<byte> publicKey, Span<byte> secretKey, ReadOnlySpan<byte> seed = default)
    {
        if (seed.IsEmpty)
        {
            Geralt.MLKEM768.GenerateKeyPair(publicKey, secretKey);
        }
        else
        {
            Geralt.MLKEM768.GenerateKeyPair(publicKey, secretKey, seed);
        }
    }

    /// <summary>
    /// Encapsulates to <paramref name="publicKey"/>: with fresh randomness, or with the message <paramref name="seed"/>
    /// (test vectors). False, with the outputs wiped, when the public key fails FIPS 203's encapsulation key check.
    /// </summary>
    public static bool TryEncapsulate(ReadOnlySpan<byte> publicKey, Span<byte> ciphertext, Span<byte> sharedSecret, ReadOnlySpan<byte> seed = default)
    {
        bool ok;
        if (seed.IsEmpty)
        {
            try
            {
                Geralt.MLKEM768.Encapsulate(sharedSecret, ciphertext, publicKey);
                ok = true;
            }
            catch (CryptographicException)
            {
                ok = false;
            }
        }
        else
        {
            ok = MlKemDeterministicEncapsulation.TryEncapsulate(publicKey, seed, ciphertext, sharedSecret);
        }
        if (!ok)
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
            ciphertext.Clear();
        }
        return ok;
    }

    /// <summary>The shared secret of <paramref name="ciphertext"/>. ML-KEM never reports a bad ciphertext: it yields an unrelated secret (implicit rejection), so the handshake fails at the next tag.</summary>
    public static void Decapsulate(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> secretKey, Span<byte> sharedSecret) =>
        Geralt.MLKEM768.Decapsulate(sharedSecret, ciphertext, secretKey);
}
