namespace OssuaryNet;

/// <summary>The Noise handshake patterns of wire protocol v1. The values are the pattern byte of the clear header.</summary>
public enum OssuaryHandshakePattern : byte
{
    /// <summary>Noise XX: three messages, both static keys sent encrypted; for first contact and trust on first use.</summary>
    XX = 1,
    /// <summary>Noise IK: two messages (one round trip); the client already knows (pins) the server's key.</summary>
    IK = 2,
    /// <summary>Noise XXhfs: XX with an ML-KEM-768 exchange beside the first Diffie-Hellman (post-quantum hybrid forward secrecy).</summary>
    XXhfs = 3,
    /// <summary>Noise IKhfs: IK with an ML-KEM-768 exchange (post-quantum hybrid forward secrecy; the first message is protected by X25519 alone).</summary>
    IKhfs = 4,
}
