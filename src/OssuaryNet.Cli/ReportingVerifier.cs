using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// A serving verb's verifier: the one the user chose (<paramref name="inner"/>), which also reports every client it
/// refuses on the <see cref="RefusalLog"/>, in the words of the choice (<paramref name="policy"/>: which file, which
/// --peer). It changes no verdict, and passes the records of the verifier it wraps (post-quantum marks) through.
/// </summary>
internal sealed class ReportingVerifier(PeerVerifier inner, string policy, RefusalLog log) : PeerVerifier
{
    public override async ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default)
    {
        PeerVerdict verdict;
        try
        {
            verdict = await inner.VerifyAsync(peer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.Refused(peer.Endpoint, peer.PublicKey.Fingerprint, $"its key could not be checked: {e.Message}");
            throw;
        }
        if (!verdict.IsAccepted)
        {
            log.Refused(peer.Endpoint, peer.PublicKey.Fingerprint, verdict.ErrorCode == OssuaryErrorCode.PostQuantumDowngrade
                ? "it used a classical handshake, but has used the post-quantum one before (or its authorized-keys line says pq): someone on the path may be stripping it"
                : policy);
        }
        return verdict;
    }

    public override OssuaryPublicKey? RecordedKeyFor(string endpoint) => inner.RecordedKeyFor(endpoint);

    public override bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) => inner.HasSpokenPostQuantum(endpoint, key);
}
