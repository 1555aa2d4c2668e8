using System.Buffers.Binary;
using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>
/// Noise's "ChaChaPoly": ChaCha20-Poly1305 (RFC 8439); the 96-bit nonce is 32 zero bits followed by the 64-bit
/// counter in little-endian order.
/// </summary>
/// <remarks>
/// Two implementations of the same algorithm, chosen per message size from measurements (bench/README.md, re-measured
/// with libsodium 1.0.22): libsodium (through Geralt) is faster for small messages (its per-call cost is lower), the
/// two are equal at <see cref="OpenSslThreshold"/> bytes, and OpenSSL through .NET's <see cref="ChaCha20Poly1305"/> is
/// up to three times faster above (vectorised). Their outputs are
/// identical (a test checks it byte for byte). Where OpenSSL's ChaCha20-Poly1305 is unavailable, libsodium does all.
/// The OpenSSL context is the backend state, created on the first large message under a key.
/// </remarks>
internal sealed class ChaChaPolyCipher : NoiseCipher
{
    /// <summary>The cipher OssuaryNet uses: libsodium for small messages, OpenSSL for large ones where available.</summary>
    public static readonly ChaChaPolyCipher Instance = new(ChaCha20Poly1305.IsSupported);

    /// <summary>libsodium for every size, for tests and benchmarks that compare the two backends.</summary>
    internal static readonly ChaChaPolyCipher LibsodiumOnly = new(useOpenSsl: false);

    /// <summary>Messages of at least this many bytes go to OpenSSL; smaller ones to libsodium.</summary>
    public const int OpenSslThreshold = 1024;

    private readonly bool _useOpenSsl;

    private ChaChaPolyCipher(bool useOpenSsl) => _useOpenSsl = useOpenSsl;

    public override string Name => "ChaChaPoly";

    public override void Seal(ReadOnlySpan<byte> key, ref IDisposable? backend, ulong nonce,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        Span<byte> n = stackalloc byte[Primitives.ChaChaPolyNonceSize];
        Encode(nonce, n);
        if (plaintext.Length >= OpenSslThreshold && _useOpenSsl)
        {
            int length = plaintext.Length;
            OpenSsl(key, ref backend).Encrypt(n, plaintext, ciphertext[..length], ciphertext.Slice(length, TagSize), associatedData);
            return;
        }
        Primitives.ChaChaPolySeal(key, n, associatedData, plaintext, ciphertext);
    }

    public override bool Open(ReadOnlySpan<byte> key, ref IDisposable? backend, ulong nonce,
        ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Span<byte> n = stackalloc byte[Primitives.ChaChaPolyNonceSize];
        Encode(nonce, n);
        int length = ciphertext.Length - TagSize;
        if (length >= OpenSslThreshold && _useOpenSsl)
        {
            try
            {
                OpenSsl(key, ref backend).Decrypt(n, ciphertext[..length], ciphertext.Slice(length, TagSize), plaintext[..length], associatedData);
                return true;
            }
            catch (CryptographicException)
            {
                // .NET clears the plaintext before throwing: nothing unauthenticated is released.
                return false;
            }
        }
        return Primitives.ChaChaPolyOpen(key, n, associatedData, ciphertext, plaintext);
    }

    private static ChaCha20Poly1305 OpenSsl(ReadOnlySpan<byte> key, ref IDisposable? backend) =>
        (ChaCha20Poly1305)(backend ??= new ChaCha20Poly1305(key));

    private static void Encode(ulong nonce, Span<byte> n)
    {
        n[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(n[4..], nonce);
    }
}
