using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>
/// Proof that a peer verifier accepted the key the handshake authenticated. It has no public or default
/// constructor: only <see cref="OssuaryConnection.CompletePeerVerification"/> creates one, from an accepting verdict on
/// the key awaiting it, and the connection cannot enter its transport phase without one, so no code path can skip
/// verification or verify one key and use another.
/// </summary>
public sealed class VerifiedPeer
{
    private VerifiedPeer(OssuaryPublicKey publicKey) => PublicKey = publicKey;

    /// <summary>The peer's verified static key.</summary>
    public OssuaryPublicKey PublicKey { get; }

    /// <summary>The one way to a proof; the caller is the connection, holding the key that awaits a verdict.</summary>
    internal static VerifiedPeer FromAcceptedVerdict(PeerIdentity awaiting, in PeerVerdict verdict) =>
        verdict.IsAccepted ? new VerifiedPeer(awaiting.PublicKey) : throw new ArgumentException("Only an accepting verdict proves a peer.", nameof(verdict));
}
