using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Interop;

namespace OssuaryNet.Crypto;

/// <summary>
/// Noise's "ChaChaPoly": ChaCha20-Poly1305 (RFC 8439); the 96-bit nonce is 32 zero bits followed by the 64-bit
/// counter in little-endian order.
/// </summary>
/// <remarks>
/// Two implementations of the same algorithm, chosen per message size from measurements (bench/README.md): libsodium
/// is faster for small messages (its per-call cost is lower), OpenSSL through .NET's <see cref="ChaCha20Poly1305"/>
/// is about three times faster from <see cref="OpenSslThreshold"/> bytes up (vectorised). Their outputs are
/// identical (a test checks it byte for byte). Where OpenSSL's ChaCha20-Poly1305 is unavailable, libsodium does all.
/// </remarks>
internal sealed class ChaChaPolyCipher : NoiseCipher
{
    public static readonly ChaChaPolyCipher Instance = new();

    /// <summary>Messages of at least this many bytes go to OpenSSL; smaller ones to libsodium.</summary>
    public const int OpenSslThreshold = 1024;

    public override string Name => "ChaChaPoly";

    public override AeadKey CreateKey(ReadOnlySpan<byte> key) => new Key(key, ChaCha20Poly1305.IsSupported);

    /// <summary>A key that uses only libsodium, for tests that compare the two backends.</summary>
    internal static AeadKey CreateLibsodiumOnlyKey(ReadOnlySpan<byte> key) => new Key(key, useOpenSsl: false);

    private sealed class Key : AeadKey
    {
        private readonly byte[] _key = SecretMemory.Allocate(KeySize);
        private readonly bool _useOpenSsl;
        private ChaCha20Poly1305? _openSsl;

        public Key(ReadOnlySpan<byte> key, bool useOpenSsl)
        {
            key.CopyTo(_key);
            _useOpenSsl = useOpenSsl;
        }

        public override void Seal(ulong nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
        {
            Span<byte> n = stackalloc byte[LibSodium.ChaChaPolyNonceSize];
            Encode(nonce, n);
            if (plaintext.Length >= OpenSslThreshold && _useOpenSsl)
            {
                int length = plaintext.Length;
                OpenSsl().Encrypt(n, plaintext, ciphertext[..length], ciphertext.Slice(length, TagSize), associatedData);
                return;
            }
            LibSodium.ChaChaPolySeal(_key, n, associatedData, plaintext, ciphertext);
        }

        public override bool Open(ulong nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
        {
            Span<byte> n = stackalloc byte[LibSodium.ChaChaPolyNonceSize];
            Encode(nonce, n);
            int length = ciphertext.Length - TagSize;
            if (length >= OpenSslThreshold && _useOpenSsl)
            {
                try
                {
                    OpenSsl().Decrypt(n, ciphertext[..length], ciphertext.Slice(length, TagSize), plaintext[..length], associatedData);
                    return true;
                }
                catch (CryptographicException)
                {
                    // .NET clears the plaintext before throwing: nothing unauthenticated is released.
                    return false;
                }
            }
            return LibSodium.ChaChaPolyOpen(_key, n, associatedData, ciphertext, plaintext);
        }

        public override void Replace(ReadOnlySpan<byte> newKey)
        {
            newKey[..KeySize].CopyTo(_key);
            _openSsl?.Dispose();
            _openSsl = null; // recreated from the new key on next use
        }

        public override void Dispose()
        {
            CryptographicOperations.ZeroMemory(_key);
            _openSsl?.Dispose();
            _openSsl = null;
        }

        private ChaCha20Poly1305 OpenSsl() => _openSsl ??= new ChaCha20Poly1305(_key);

        private static void Encode(ulong nonce, Span<byte> n)
        {
            n[..4].Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(n[4..], nonce);
        }
    }
}
