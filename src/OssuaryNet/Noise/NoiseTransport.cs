using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// The result of a finished handshake: one CipherState per direction and the handshake hash for channel binding.
/// (The peer's static key is read from the handshake before it is split.) Both keys and the hash share one pinned
/// block, which is all the key memory an established connection holds.
/// </summary>
internal sealed class NoiseTransport : IDisposable
{
    private const int SendKeyOffset = 0, ReceiveKeyOffset = NoiseCipher.KeySize, HashOffset = 2 * NoiseCipher.KeySize;

    private readonly byte[] _memory;
    private readonly int _hashLength;

    /// <summary>Copies both keys and the handshake hash into a new pinned block; the caller wipes its copies.</summary>
    public NoiseTransport(NoiseCipher cipher, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, ReadOnlySpan<byte> handshakeHash)
    {
        _memory = SecretMemory.Allocate(HashOffset + handshakeHash.Length);
        _hashLength = handshakeHash.Length;
        handshakeHash.CopyTo(_memory.AsSpan(HashOffset));
        Send = new CipherState(cipher, _memory, SendKeyOffset);
        Receive = new CipherState(cipher, _memory, ReceiveKeyOffset);
        Send.InitializeKey(sendKey);
        Receive.InitializeKey(receiveKey);
    }

    /// <summary>Encrypts what this side sends.</summary>
    public CipherState Send { get; }

    /// <summary>Decrypts what the peer sends.</summary>
    public CipherState Receive { get; }

    /// <summary>The final handshake hash h; unique to this session and safe to reveal.</summary>
    public ReadOnlySpan<byte> HandshakeHash => _memory.AsSpan(HashOffset, _hashLength);

    /// <summary>Wipes both keys (the hash is public and stays readable).</summary>
    public void Dispose()
    {
        Send.Dispose();
        Receive.Dispose();
    }
}
