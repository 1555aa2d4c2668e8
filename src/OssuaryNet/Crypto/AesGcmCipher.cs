using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>
/// Noise's "AESGCM": AES-256-GCM through .NET's <see cref="AesGcm"/> (OpenSSL here, which works with or without
/// AES-NI, unlike libsodium's AES-GCM); the 96-bit nonce is 32 zero bits followed by the 64-bit counter in
/// big-endian order. The <see cref="AesGcm"/> object (OpenSSL's expanded key) is the backend state.
/// </summary>
internal sealed class AesGcmCipher : NoiseCipher
{
    public static readonly AesGcmCipher Instance = new();

    private AesGcmCipher()
    {
    }

    public override string Name => "AESGCM";

    public override void Seal(ReadOnlySpan<byte> key, ref IDisposable? backend, ulong nonce,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> n = stackalloc byte[12];
        Encode(nonce, n);
        int length = plaintext.Length;
        Aes(key, ref backend).Encrypt(n, plaintext, ciphertext[..length], ciphertext.Slice(length, TagSize), associatedData);
    }

    public override bool Open(ReadOnlySpan<byte> key, ref IDisposable? backend, ulong nonce,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (ciphertext.Length < TagSize)
        {
            return false;
        }
        Span<byte> n = stackalloc byte[12];
        Encode(nonce, n);
        int length = ciphertext.Length - TagSize;
        try
        {
            Aes(key, ref backend).Decrypt(n, ciphertext[..length], ciphertext.Slice(length, TagSize), plaintext[..length], associatedData);
            return true;
        }
        catch (CryptographicException)
        {
            // .NET clears the plaintext buffer before throwing, so nothing unauthenticated is left behind.
            return false;
        }
    }

    private static AesGcm Aes(ReadOnlySpan<byte> key, ref IDisposable? backend) =>
        (AesGcm)(backend ??= new AesGcm(key[..KeySize], TagSize));

    private static void Encode(ulong nonce, Span<byte> n)
    {
        n[..4].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(n[4..], nonce);
    }
}
