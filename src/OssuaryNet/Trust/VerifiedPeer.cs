using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>
/// Proof that a peer verifier accepted a key. Only <see cref="Check"/> creates one with a key, and the connection
/// cannot enter its transport phase without one, so no code path can skip verification. A value type so that the
/// proof costs no allocation; its default value carries no key and is refused where a proof is required.
/// </summary>
internal readonly struct VerifiedPeer
{
    private VerifiedPeer(OssuaryPublicKey publicKey) => PublicKey = publicKey;

    /// <summary>The accepted key; null only in the default value, which proves nothing.</summary>
    public OssuaryPublicKey? PublicKey { get; }

    /// <summary>Runs the verifier; a rejection, or an exception thrown by the verifier, becomes an <see cref="OssuaryException"/>.</summary>
    public static VerifiedPeer Check(PeerVerifier verifier, PeerIdentity peer)
    {
        PeerVerdict verdict;
        try
        {
            verdict = verifier.Verify(peer);
        }
        catch (OssuaryException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new OssuaryException(OssuaryErrorCode.PeerRejected, $"The peer verifier failed: {e.Message}", e);
        }
        if (!verdict.IsAccepted)
        {
            throw new OssuaryException(verdict.ErrorCode, verdict.Reason ?? $"The peer with fingerprint {peer.PublicKey.Fingerprint} was rejected.");
        }
        return new VerifiedPeer(peer.PublicKey);
    }
}
