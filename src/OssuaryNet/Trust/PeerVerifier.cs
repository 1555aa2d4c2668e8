using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>
/// Decides whether a peer's authenticated static key is trusted. Both roles use one: clients verify servers and
/// servers verify clients. A handshake cannot complete without the verifier's acceptance (see <see cref="VerifiedPeer"/>).
/// </summary>
/// <remarks>Implementations are called on the thread driving the connection and must be thread-safe if shared between connections.</remarks>
public abstract class PeerVerifier
{
    /// <summary>Judges <paramref name="peer"/>.</summary>
    public abstract PeerVerdict Verify(PeerIdentity peer);

    /// <summary>
    /// Accepts every peer: encryption without authentication, which a man in the middle can defeat.
    /// Use it only where that is understood (the peer's fingerprint is still available for out-of-band checks).
    /// </summary>
    public static PeerVerifier AcceptAny { get; } = new CallbackVerifier(_ => PeerVerdict.Accept());

    /// <summary>Accepts exactly the given keys.</summary>
    public static PeerVerifier Pinned(params OssuaryPublicKey[] keys) => new AuthorizedKeys(keys);

    /// <summary>Wraps a callback.</summary>
    public static PeerVerifier FromCallback(Func<PeerIdentity, PeerVerdict> callback) => new CallbackVerifier(callback);

    private sealed class CallbackVerifier(Func<PeerIdentity, PeerVerdict> callback) : PeerVerifier
    {
        public override PeerVerdict Verify(PeerIdentity peer) => callback(peer);
    }
}
