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
    /// Whether the transport could have used the hybrid handshake (the stream mode can; the datagram mode does not
    /// offer it yet). Only then is a classical handshake from a peer on record as hybrid a downgrade.
    /// </summary>
    internal bool PostQuantumPossible { get; init; }

    /// <summary>A classical handshake where a hybrid one was possible.</summary>
    internal bool IsClassicalWherePostQuantumPossible => PostQuantumPossible && !Pattern.IsHybrid();

    /// <summary>Equal when the key, endpoint, role and pattern are (the transport's internal facts do not count).</summary>
    public bool Equals(PeerIdentity? other) =>
        other is not null && PublicKey.Equals(other.PublicKey) && Endpoint == other.Endpoint && PeerIsServer == other.PeerIsServer && Pattern == other.Pattern;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PublicKey, Endpoint, PeerIsServer, Pattern);
}
