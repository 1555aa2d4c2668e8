using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// The verifier a running server tunnel of `run` hands its listener once: every handshake asks whichever verifier
/// is current, so a reload that swaps in a freshly loaded authorized-keys file takes effect at the next handshake
/// without closing the socket or touching the connections already verified, as ghostunnel reloads certificates.
/// </summary>
internal sealed class SwappableVerifier(PeerVerifier initial) : PeerVerifier
{
    private PeerVerifier _current = initial;

    public PeerVerifier Current
    {
        get => Volatile.Read(ref _current);
        set
        {
            // What the old file's verifier learned at run time (keys that have spoken the hybrid handshake, which must
            // not be stripped later) is carried over: a reload must not reopen a downgrade.
            if (value is AuthorizedKeys next && Current is AuthorizedKeys previous)
            {
                next.RememberPostQuantumFrom(previous);
            }
            Volatile.Write(ref _current, value);
        }
    }

    public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default) =>
        Current.VerifyAsync(peer, cancellationToken);

    public override OssuaryPublicKey? RecordedKeyFor(string endpoint) => Current.RecordedKeyFor(endpoint);

    public override bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) => Current.HasSpokenPostQuantum(endpoint, key);
}
