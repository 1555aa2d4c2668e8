using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>What a <see cref="PeerVerifier"/> is asked to judge: a peer's authenticated static key and where it was reached.</summary>
/// <param name="PublicKey">The peer's static public key; the handshake has proven the peer holds its private key.</param>
/// <param name="Endpoint">The endpoint name (e.g. "example.com:7070" for a client, the client's address for a server), or null when unknown.</param>
/// <param name="PeerIsServer">True when this side is the client judging a server, false when a server judges a client.</param>
public sealed record PeerIdentity(OssuaryPublicKey PublicKey, string? Endpoint, bool PeerIsServer)
{
    /// <summary>The handshake pattern that authenticated the key.</summary>
    public OssuaryHandshakePattern Pattern { get; init; }

    /// <summary>
    /// Whether a classical handshake (XX, IK) authenticated the key: what a verifier refuses from a peer on record as
    /// hybrid. An identity whose pattern was never set (one a caller made up) is neither classical nor hybrid.
    /// </summary>
    internal bool IsClassical => Pattern is OssuaryHandshakePattern.XX or OssuaryHandshakePattern.IK;
}
