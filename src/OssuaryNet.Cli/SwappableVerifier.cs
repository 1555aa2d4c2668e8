using System.Collections.Concurrent;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// The verifier a running server tunnel of `run` hands its listener once: every handshake asks whichever verifier
/// is current, so a reload that swaps in a freshly loaded authorized-keys file takes effect at the next handshake
/// without closing the socket or touching the connections already verified, as ghostunnel reloads certificates.
/// </summary>
/// <remarks>
/// A key that has completed a hybrid handshake here may not use a classical one afterwards (an attacker must not
/// strip what it has spoken once). The verifiers swapped in each learn that for their own life only, so this one
/// keeps it across reloads: it remembers every key it accepted in a hybrid handshake, whatever verifier judged it.
/// </remarks>
internal sealed class SwappableVerifier(PeerVerifier initial) : PeerVerifier
{
    private readonly ConcurrentDictionary<OssuaryPublicKey, bool> _spokenPostQuantum = new();
    private PeerVerifier _current = initial;

    public PeerVerifier Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }

    public override async ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default)
    {
        PeerVerdict verdict = await Current.VerifyAsync(peer, cancellationToken).ConfigureAwait(false);
        if (!verdict.IsAccepted)
        {
            return verdict;
        }
        if (peer.Pattern.IsHybrid())
        {
            _spokenPostQuantum[peer.PublicKey] = true;
        }
        else if (peer.IsClassical && _spokenPostQuantum.ContainsKey(peer.PublicKey))
        {
            // The verifiers swapped in report their own refusals; this one is this verifier's, so it reports it.
            RefusalLog.Process.Refused(peer.Endpoint, peer.PublicKey.Fingerprint,
                "it used a classical handshake, but has completed the post-quantum hybrid one with this tunnel before: someone on the path may be stripping it");
            return PeerVerdict.PostQuantumDowngrade(
                $"The client (fingerprint {peer.PublicKey.Fingerprint}) used a classical handshake, but has completed the post-quantum hybrid one with this tunnel before: someone on the path may be stripping it.");
        }
        return verdict;
    }

    public override OssuaryPublicKey? RecordedKeyFor(string endpoint) => Current.RecordedKeyFor(endpoint);

    public override bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) =>
        Current.HasSpokenPostQuantum(endpoint, key) || key is not null && _spokenPostQuantum.ContainsKey(key);
}
