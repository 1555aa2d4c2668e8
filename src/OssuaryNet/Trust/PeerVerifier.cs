using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>
/// Decides whether a peer's authenticated static key is trusted. Both roles use one: clients verify servers and
/// servers verify clients. A handshake cannot complete without an accepting verdict (see <see cref="VerifiedPeer"/>).
/// </summary>
/// <remarks>
/// <para>The decision may take time (a file, a database, a person at a terminal), so it is asynchronous and never runs
/// inside <see cref="OssuaryConnection.Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>: the connection pauses with
/// <see cref="OssuaryStatus.PeerVerificationRequired"/>, the driver (<see cref="OssuaryStream"/>, the C library, or the
/// caller of the sans-I/O API) awaits <see cref="VerifyAsync"/> outside every lock, bounded by the handshake deadline,
/// and hands the verdict to <see cref="OssuaryConnection.CompletePeerVerification"/>.</para>
/// <para>A verifier shared between connections must be thread-safe.</para>
/// </remarks>
public abstract class PeerVerifier
{
    /// <summary>Judges <paramref name="peer"/>. An exception counts as a rejection.</summary>
    /// <param name="peer">The peer's authenticated key and where it was reached.</param>
    /// <param name="cancellationToken">Fires at the handshake deadline; a verifier that ignores it is abandoned then.</param>
    public abstract ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default);

    /// <summary>
    /// The key this verifier has on record for a server endpoint (known hosts), or null. A client with no pinned key
    /// uses it for the one-round-trip IK handshake.
    /// </summary>
    public virtual OssuaryPublicKey? RecordedKeyFor(string endpoint) => null;

    /// <summary>
    /// Whether this verifier's records say the peer (by endpoint, or by key) has spoken the post-quantum hybrid
    /// handshake. A client with <see cref="OssuaryPostQuantum.Preferred"/> then refuses to fall back to a classical one
    /// (<see cref="OssuaryErrorCode.PostQuantumDowngrade"/>). Known hosts and authorized keys keep such records.
    /// </summary>
    public virtual bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) => false;

    /// <summary>
    /// Accepts every peer: encryption without authentication, which a man in the middle can defeat.
    /// Use it only where that is understood (the peer's fingerprint is still available for out-of-band checks).
    /// </summary>
    public static PeerVerifier AcceptAny { get; } = FromCallback(_ => PeerVerdict.Accept());

    /// <summary>Accepts exactly the given keys.</summary>
    public static PeerVerifier Pinned(params OssuaryPublicKey[] keys) => new AuthorizedKeys(keys);

    /// <summary>Wraps a synchronous callback (for decisions that need no I/O).</summary>
    public static PeerVerifier FromCallback(Func<PeerIdentity, PeerVerdict> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new CallbackVerifier(callback);
    }

    /// <summary>Wraps an asynchronous callback.</summary>
    public static PeerVerifier FromAsyncCallback(Func<PeerIdentity, CancellationToken, ValueTask<PeerVerdict>> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return new AsyncCallbackVerifier(callback);
    }

    private sealed class CallbackVerifier(Func<PeerIdentity, PeerVerdict> callback) : PeerVerifier
    {
        public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(callback(peer));
    }

    private sealed class AsyncCallbackVerifier(Func<PeerIdentity, CancellationToken, ValueTask<PeerVerdict>> callback) : PeerVerifier
    {
        public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default) =>
            callback(peer, cancellationToken);
    }
}
