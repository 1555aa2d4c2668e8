using OssuaryNet.Trust;

namespace OssuaryNet.Tests;

/// <summary>Synchronous forms for tests of the asynchronous trust API (the built-in verifiers complete at once).</summary>
internal static class VerifierTestExtensions
{
    public static PeerVerdict Verify(this PeerVerifier verifier, PeerIdentity peer)
    {
        ValueTask<PeerVerdict> verdict = verifier.VerifyAsync(peer);
        return verdict.IsCompletedSuccessfully ? verdict.Result : verdict.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Gives a paused connection its own verifier's verdict; false when no verification was pending.</summary>
    public static bool VerifyPendingPeer(this OssuaryConnection connection)
    {
        if (connection.PeerToVerify is not { } peer)
        {
            return false;
        }
        PeerVerdict verdict;
        try
        {
            verdict = connection.PeerVerifier.Verify(peer);
        }
        catch (Exception e)
        {
            // What every driver does: a verifier that throws rejects the peer.
            verdict = PeerVerdict.VerifierFailed(e);
        }
        connection.CompletePeerVerification(verdict);
        return true;
    }
}
