using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// A Noise SymmetricState (spec section 5.2): the chaining key ck, the handshake hash h and a CipherState.
/// </summary>
internal sealed class SymmetricState : IDisposable
{
    private readonly NoiseProtocol _protocol;
    private readonly NoiseHash _hash;
    private readonly byte[] _chainingKey;
    private readonly byte[] _handshakeHash;
    private readonly CipherState _cipher;

    /// <summary>InitializeSymmetric(protocol_name).</summary>
    public SymmetricState(NoiseProtocol protocol)
    {
        _protocol = protocol;
        _hash = protocol.Hash;
        _chainingKey = SecretMemory.Allocate(_hash.HashLength);
        _handshakeHash = SecretMemory.Allocate(_hash.HashLength);
        _cipher = new CipherState(protocol.Cipher);

        // h = protocol_name padded with zeros to HASHLEN if it fits, else HASH(protocol_name); ck = h.
        ReadOnlySpan<byte> name = protocol.NameBytes;
        if (name.Length <= _hash.HashLength)
        {
            name.CopyTo(_handshakeHash);
        }
        else
        {
            _hash.Hash(name, default, default, _handshakeHash);
        }
        _handshakeHash.CopyTo(_chainingKey, 0);
    }

    public bool HasKey => _cipher.HasKey;

    /// <summary>Bytes EncryptAndHash adds under the current key.</summary>
    public int Overhead => _cipher.Overhead;

    /// <summary>GetHandshakeHash(): h.</summary>
    public ReadOnlySpan<byte> HandshakeHash => _handshakeHash;

    /// <summary>MixKey(input_key_material): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k truncated to 32).</summary>
    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> tempKey = stackalloc byte[NoiseHash.MaxHashLength];
        tempKey = tempKey[.._hash.HashLength];
        try
        {
            _hash.Hkdf(_chainingKey, inputKeyMaterial, _chainingKey, tempKey, default);
            _cipher.InitializeKey(tempKey[..AeadKey.KeySize]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(tempKey);
        }
    }

    /// <summary>MixHash(data): h = HASH(h || data).</summary>
    public void MixHash(ReadOnlySpan<byte> data) => _hash.Hash(_handshakeHash, data, default, _handshakeHash);

    /// <summary>MixKeyAndHash(input_key_material): ck, temp_h, temp_k = HKDF(ck, ikm, 3); MixHash(temp_h); InitializeKey(temp_k).</summary>
    public void MixKeyAndHash(ReadOnlySpan<byte> inputKeyMaterial)
    {
        int n = _hash.HashLength;
        Span<byte> tempHash = stackalloc byte[NoiseHash.MaxHashLength];
        Span<byte> tempKey = stackalloc byte[NoiseHash.MaxHashLength];
        try
        {
            _hash.Hkdf(_chainingKey, inputKeyMaterial, _chainingKey, tempHash[..n], tempKey[..n]);
            MixHash(tempHash[..n]);
            _cipher.InitializeKey(tempKey[..AeadKey.KeySize]);
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
        int written = _cipher.EncryptWithAd(_handshakeHash, plaintext, ciphertext);
        MixHash(ciphertext[..written]);
        return written;
    }

    /// <summary>DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext). Fails with AuthenticationFailed.</summary>
    public int DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (!_cipher.TryDecryptWithAd(_handshakeHash, ciphertext, plaintext, out int written))
        {
            throw new OssuaryException(OssuaryErrorCode.AuthenticationFailed, "A handshake message failed authentication.");
        }
        MixHash(ciphertext);
        return written;
    }

    /// <summary>Split(): temp_k1, temp_k2 = HKDF(ck, empty, 2); returns (c1, c2) keyed with their first 32 bytes.</summary>
    public (CipherState InitiatorToResponder, CipherState ResponderToInitiator) Split()
    {
        int n = _hash.HashLength;
        Span<byte> k1 = stackalloc byte[NoiseHash.MaxHashLength];
        Span<byte> k2 = stackalloc byte[NoiseHash.MaxHashLength];
        try
        {
            _hash.Hkdf(_chainingKey, default, k1[..n], k2[..n], default);
            var c1 = new CipherState(_protocol.Cipher);
            var c2 = new CipherState(_protocol.Cipher);
            c1.InitializeKey(k1[..AeadKey.KeySize]);
            c2.InitializeKey(k2[..AeadKey.KeySize]);
            return (c1, c2);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(k1);
            CryptographicOperations.ZeroMemory(k2);
        }
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_chainingKey);
        CryptographicOperations.ZeroMemory(_handshakeHash);
        _cipher.Dispose();
    }
}
