using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// The result of a finished handshake: one CipherState per direction, the handshake hash for channel binding,
/// and the peer's static key (when the pattern transmits or pre-shares one).
/// </summary>
internal sealed class NoiseTransport : IDisposable
{
    public NoiseTransport(CipherState send, CipherState receive, ReadOnlySpan<byte> handshakeHash, ReadOnlySpan<byte> remoteStaticPublicKey)
    {
        Send = send;
        Receive = receive;
        HandshakeHash = handshakeHash.ToArray();
        RemoteStaticPublicKey = remoteStaticPublicKey.IsEmpty ? null : remoteStaticPublicKey.ToArray();
    }

    /// <summary>Encrypts what this side sends.</summary>
    public CipherState Send { get; }

    /// <summary>Decrypts what the peer sends.</summary>
    public CipherState Receive { get; }

    /// <summary>The final handshake hash h; unique to this session and safe to reveal.</summary>
    public byte[] HandshakeHash { get; }

    /// <summary>The peer's static public key, or null for patterns without one.</summary>
    public byte[]? RemoteStaticPublicKey { get; }

    public void Dispose()
    {
        Send.Dispose();
        Receive.Dispose();
    }
}
