using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// The result of a finished handshake: one CipherState per direction and the handshake hash for channel binding.
/// (The peer's static key is read from the handshake before it is split.)
/// </summary>
internal sealed class NoiseTransport : IDisposable
{
    public NoiseTransport(CipherState send, CipherState receive, ReadOnlySpan<byte> handshakeHash)
    {
        Send = send;
        Receive = receive;
        HandshakeHash = handshakeHash.ToArray();
    }

    /// <summary>Encrypts what this side sends.</summary>
    public CipherState Send { get; }

    /// <summary>Decrypts what the peer sends.</summary>
    public CipherState Receive { get; }

    /// <summary>The final handshake hash h; unique to this session and safe to reveal.</summary>
    public byte[] HandshakeHash { get; }

    public void Dispose()
    {
        Send.Dispose();
        Receive.Dispose();
    }
}
