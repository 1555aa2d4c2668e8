using OssuaryNet.Trust;

namespace OssuaryNet.Native;

/// <summary>
/// The verifier of a handle whose application decides itself (ossuary_set_deferred_verification): the handshake
/// stops with OSSUARY_NEEDS_VERIFICATION and the verdict comes through ossuary_complete_verification. The library
/// never calls it.
/// </summary>
internal sealed class DeferredVerification : PeerVerifier
{
    public static DeferredVerification Instance { get; } = new();

    public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("The application gives this verdict through ossuary_complete_verification.");
}
