using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// The one key --peer KEY names: accepted, and any other refused with a sentence that names both fingerprints, as
/// --peer FINGERPRINT does. It keeps <see cref="AuthorizedKeys"/>' memory of peers that used the post-quantum hybrid
/// handshake, so a classical one from them is still refused as a downgrade.
/// </summary>
internal sealed class PinnedPeerVerifier(OssuaryPublicKey key, string role) : PeerVerifier
{
    private readonly AuthorizedKeys _pinned = new([key]);

    public override async ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default)
    {
        PeerVerdict verdict = await _pinned.VerifyAsync(peer, cancellationToken).ConfigureAwait(false);
        return verdict.IsAccepted || verdict.ErrorCode != OssuaryErrorCode.PeerRejected
            ? verdict
            : PeerVerdict.Reject($"The {role}'s fingerprint is {peer.PublicKey.Fingerprint}, not {key.Fingerprint} (the key given with --peer): its key was replaced, or someone is intercepting the connection.");
    }

    public override bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) => _pinned.HasSpokenPostQuantum(endpoint, key);
}
