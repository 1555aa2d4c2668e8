using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// A Noise SymmetricState (spec section 5.2): the chaining key ck, the handshake hash h and a CipherState.
/// </summary>
internal sealed class SymmetricState : IDisposable
{
    /// <summary>Bytes of pinned memory a SymmetricState keeps its chaining key, hash and cipher key in.</summary>
    public const int MemorySize = 2 * NoiseHash.MaxHashLength + NoiseCipher.KeySize;

    private const int ChainingKeyOffset = 0, HandshakeHashOffset = NoiseHash.MaxHashLength, CipherKeyOffset = 2 * NoiseHash.MaxHashLength;

    private readonly NoiseHash _hash;
    private readonly byte[] _memory;
    private readonly int _offset;
    private readonly CipherState _cipher;

    /// <summary>
    /// InitializeSymmetric(protocol_name), keeping ck, h and k in <see cref="MemorySize"/> bytes of
    /// <paramref name="memory"/> from <paramref name="offset"/> (pinned and zeroed; the caller owns and wipes it).
    /// </summary>
    public SymmetricState(NoiseProtocol protocol, byte[] memory, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, memory.Length - MemorySize);
        _hash = protocol.Hash;
        _memory = memory;
        _offset = offset;
        _cipher = new CipherState(protocol.Cipher, memory, offset + CipherKeyOffset);

        // h = protocol_name padded with zeros to HASHLEN if it fits, else HASH(protocol_name); ck = h.
        Span<byte> handshakeHash = HandshakeHashSpan;
        ReadOnlySpan<byte> name = protocol.NameBytes;
        handshakeHash.Clear();
        if (name.Length <= _hash.HashLength)
        {
            name.CopyTo(handshakeHash);
        }
        else
        {
            _hash.Hash(name, default, default, handshakeHash);
        }
        handshakeHash.CopyTo(ChainingKey);
    }

    private Span<byte> ChainingKey => _memory.AsSpan(_offset + ChainingKeyOffset, _hash.HashLength);

    private Span<byte> HandshakeHashSpan => _memory.AsSpan(_offset + HandshakeHashOffset, _hash.HashLength);

    public bool HasKey => _cipher.HasKey;

    /// <summary>Bytes EncryptAndHash adds under the current key.</summary>
    public int Overhead => _cipher.Overhead;

    /// <summary>GetHandshakeHash(): h.</summary>
    public ReadOnlySpan<byte> HandshakeHash => HandshakeHashSpan;

    /// <summary>MixKey(input_key_material): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k truncated to 32).</summary>
    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> tempKey = stackalloc byte[NoiseHash.MaxHashLength];
        tempKey = tempKey[.._hash.HashLength];
        try
        {
            _hash.Hkdf(ChainingKey, inputKeyMaterial, ChainingKey, tempKey, default);
            _cipher.InitializeKey(tempKey[..NoiseCipher.KeySize]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(tempKey);
        }
    }

    /// <summary>MixHash(data): h = HASH(h || data).</summary>
    public void MixHash(ReadOnlySpan<byte> data) => _hash.Hash(HandshakeHashSpan, data, default, HandshakeHashSpan);

    /// <summary>MixKeyAndHash(input_key_material): ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h); InitializeKey(temp_k).</summary>
    public void MixKeyAndHash(ReadOnlySpan<byte> inputKeyMaterial)
    {
        int n = _hash.HashLength;
        Span<byte> tempHash = stackalloc byte[NoiseHash.MaxHashLength];
        Span<byte> tempKey = stackalloc byte[NoiseHash.MaxHashLength];
        try
        {
            _hash.Hkdf(ChainingKey, inputKeyMaterial, ChainingKey, tempHash[..n], tempKey[..n]);
            MixHash(tempHash[..n]);
            _cipher.InitializeKey(tempKey[..NoiseCipher.KeySize]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(tempHash);
            CryptographicOperations.ZeroMemory(tempKey);
        }
    }

    /// <summary>EncryptAndHash(plaintext): ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext).</summary>
    public int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        int written = _cipher.EncryptWithAd(HandshakeHashSpan, plaintext, ciphertext);
        MixHash(ciphertext[..written]);
        return written;
    }

    /// <summary>DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext). Fails with AuthenticationFailed.</summary>
    public int DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (!_cipher.TryDecryptWithAd(HandshakeHashSpan, ciphertext, plaintext, out int written))
        {
            throw new OssuaryException(OssuaryErrorCode.AuthenticationFailed, "A handshake message failed authentication.");
        }
        MixHash(ciphertext);
        return written;
    }

    /// <summary>Split(): temp_k1, temp_k2 = HKDF(ck, empty, 2); writes their first 32 bytes (the two transport keys) for the caller to key its CipherStates with and wipe.</summary>
    public void Split(Span<byte> initiatorToResponderKey, Span<byte> responderToInitiatorKey)
    {
        int n = _hash.HashLength;
        Span<byte> k1 = stackalloc byte[NoiseHash.MaxHashLength];
        Span<byte> k2 = stackalloc byte[NoiseHash.MaxHashLength];
        try
        {
            _hash.Hkdf(ChainingKey, default, k1[..n], k2[..n], default);
            k1[..NoiseCipher.KeySize].CopyTo(initiatorToResponderKey);
            k2[..NoiseCipher.KeySize].CopyTo(responderToInitiatorKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k1);
            CryptographicOperations.ZeroMemory(k2);
        }
    }

    /// <summary>The cipher's flag and nonce; its key, the chaining key and h live in the owner's block, which the owner saves.</summary>
    public (bool HasKey, ulong Nonce) SaveCipherCounters() => _cipher.SaveCounters();

    public void RestoreCipherCounters((bool HasKey, ulong Nonce) saved) => _cipher.RestoreCounters(saved);

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_memory.AsSpan(_offset, MemorySize));
        _cipher.Dispose();
    }
}
