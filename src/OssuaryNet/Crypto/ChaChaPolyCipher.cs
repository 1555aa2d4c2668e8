using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Interop;

namespace OssuaryNet.Crypto;

/// <summary>
/// Noise's "ChaChaPoly": ChaCha20-Poly1305 (RFC 8439) through libsodium; the 96-bit nonce is 32 zero bits
/// followed by the 64-bit counter in little-endian order.
/// </summary>
internal sealed class ChaChaPolyCipher : NoiseCipher
{
    public static readonly ChaChaPolyCipher Instance = new();

    public override string Name => "ChaChaPoly";

    public override AeadKey CreateKey(ReadOnlySpan<byte> key) => new Key(key);

    private sealed class Key : AeadKey
    {
        private readonly byte[] _key = SecretMemory.Allocate(KeySize);

        public Key(ReadOnlySpan<byte> key) => key.CopyTo(_key);

        public override void Seal(ulong nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
        {
            Span<byte> n = stackalloc byte[LibSodium.ChaChaPolyNonceSize];
            Encode(nonce, n);
            LibSodium.ChaChaPolySeal(_key, n, associatedData, plaintext, ciphertext);
        }

        public override bool Open(ulong nonce, ReadOnlySpan<byte> associatedData, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
        {
            Span<byte> n = stackalloc byte[LibSodium.ChaChaPolyNonceSize];
            Encode(nonce, n);
            return LibSodium.ChaChaPolyOpen(_key, n, associatedData, ciphertext, plaintext);
        }

        public override void Replace(ReadOnlySpan<byte> newKey) => newKey[..KeySize].CopyTo(_key);

        public override void Dispose() => CryptographicOperations.ZeroMemory(_key);

        private static void Encode(ulong nonce, Span<byte> n)
        {
            n[..4].Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(n[4..], nonce);
        }
    }
}
