using OssuaryNet.Identity;
using OssuaryNet.Protocol;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>What to do on first contact with a server (the --tofu option).</summary>
internal enum TofuMode
{
    Ask,
    Accept,
    Reject,
}

/// <summary>Builds the peer verification of each side from the command line.</summary>
internal static class TrustSettings
{
    /// <summary>
    /// Client side: --peer pins a key (IK) or a fingerprint (XX, checked against it); otherwise the known-hosts file
    /// with trust on first use (a recorded key is pinned, so repeat connections are IK).
    /// </summary>
    public static OssuaryClientOptions Client(OssuaryKeyPair key, string? peer, TofuMode? tofu, string? knownHostsPath, string protocol, OssuaryPostQuantum postQuantum) =>
        Client(key, peer, tofu, knownHostsPath, [protocol], postQuantum);

    /// <summary>As above, offering <paramref name="protocols"/>, most preferred first (a newer version beside the one older peers speak).</summary>
    public static OssuaryClientOptions Client(OssuaryKeyPair key, string? peer, TofuMode? tofu, string? knownHostsPath, string[] protocols, OssuaryPostQuantum postQuantum)
    {
        var options = new OssuaryClientOptions { StaticKeyPair = key, ApplicationProtocols = [.. protocols], PostQuantum = postQuantum };
        if (peer is not null)
        {
            options.PeerVerifier = Pinned(peer, "server", out OssuaryPublicKey? pinned);
            options.ServerKey = pinned; // a full key allows the one-round-trip IK handshake
            return options;
        }
        TofuMode mode = tofu ?? (TerminalAttached() ? TofuMode.Ask : TofuMode.Accept);
        options.PeerVerifier = new KnownHosts(knownHostsPath ?? CliPaths.DefaultKnownHosts, mode switch
        {
            TofuMode.Accept => TofuPolicy.Accept,
            TofuMode.Reject => TofuPolicy.Reject,
            _ => TofuPolicy.Ask,
        })
        {
            ConfirmFirstContact = AskOnTerminal,
            // As ssh says "Permanently added ...": a key recorded without a question should not go unnoticed.
            FirstContactRecorded = peer => Output.Notice(
                $"permanently added {PrintableText.Escape(peer.Endpoint ?? "?")} (fingerprint {peer.PublicKey.Fingerprint}) to {PrintableText.Escape(knownHostsPath ?? CliPaths.DefaultKnownHosts)}"),
        };
        return options;
    }

    /// <summary>
    /// Server options with the client policy the user chose (see <see cref="ServerTrust.Check"/>); an authorized-keys
    /// file is checked here, when the verb starts (<see cref="AuthorizedKeysFile"/>), and every refused client is
    /// reported on the process's <see cref="RefusalLog"/>.
    /// </summary>
    public static OssuaryServerOptions Server(OssuaryKeyPair key, ServerTrust trust, string protocol, OssuaryPostQuantum postQuantum) =>
        Server(key, trust, [protocol], postQuantum);

    /// <summary>As above, speaking <paramref name="protocols"/>, most preferred first.</summary>
    public static OssuaryServerOptions Server(OssuaryKeyPair key, ServerTrust trust, string[] protocols, OssuaryPostQuantum postQuantum) => new()
    {
        StaticKeyPair = key,
        PostQuantum = postQuantum,
        PeerVerifier = trust.AuthorizedKeys is { } file
            ? new ReportingVerifier(AuthorizedKeysFile.Load(file), $"its key is not in {PrintableText.Escape(file)}", RefusalLog.Process)
            : trust.Peer is { } peer
            ? new ReportingVerifier(Pinned(peer, "client", out _), $"it is not the client given with --peer {PrintableText.Escape(peer)}", RefusalLog.Process)
            : PeerVerifier.AcceptAny,
        ApplicationProtocols = [.. protocols],
    };

    /// <summary>A verifier for one peer given as a public key or a fingerprint; <paramref name="key"/> is set for a full key.</summary>
    private static PeerVerifier Pinned(string peer, string role, out OssuaryPublicKey? key)
    {
        if (OssuaryPublicKey.TryParse(peer, out key, out string? problem))
        {
            return new PinnedPeerVerifier(key, role);
        }
        string fingerprint = peer.Trim().ToLowerInvariant();
        if (!PeerText.Fingerprint().IsMatch(fingerprint))
        {
            throw new UsageException(peer.Trim().Length == 44
                ? $"--peer '{PrintableText.Escape(peer)}' is not a public key: {problem}."
                : $"--peer takes a public key (44 characters of base64) or a fingerprint (xxxx-xxxx-...-xxxx), not '{PrintableText.Escape(peer)}'.");
        }
        return PeerVerifier.FromCallback(identity => identity.PublicKey.Fingerprint == fingerprint
            ? PeerVerdict.Accept()
            : PeerVerdict.Reject($"The {role}'s fingerprint is {identity.PublicKey.Fingerprint}, not {fingerprint} as given with --peer."));
    }

    private static bool TerminalAttached() => !Console.IsErrorRedirected && File.Exists("/dev/tty") && CanOpenTty();

    private static bool CanOpenTty()
    {
        try
        {
            using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Asks on the controlling terminal (not stdin, which may carry data), as ssh does. The question runs while the
    /// handshake is paused for its verdict, outside every lock; the handshake deadline abandons an unanswered one.
    /// </summary>
    private static async ValueTask<bool> AskOnTerminal(PeerIdentity peer, CancellationToken cancellationToken) =>
        await Task.Run(() => AskOnTerminal(peer), cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);

    private static bool AskOnTerminal(PeerIdentity peer)
    {
        try
        {
            // The reader and writer leave the terminal open: it is closed once, last, after the writer's final flush.
            using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.ReadWrite);
            using (var writer = new StreamWriter(tty, leaveOpen: true) { AutoFlush = true })
            {
                writer.Write($"The authenticity of '{PrintableText.Escape(peer.Endpoint ?? "")}' can't be established.\nIts key fingerprint is {peer.PublicKey.Fingerprint}.\nTrust it and continue connecting (yes/no)? ");
            }
            using var reader = new StreamReader(tty, leaveOpen: true);
            string? answer = reader.ReadLine()?.Trim().ToLowerInvariant();
            return answer is "yes" or "y";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}

/// <summary>
/// The client policy of a listening verb, as given on the command line: an authorized-keys file, one pinned client
/// (--peer), or any client (--accept-any).
/// </summary>
internal readonly record struct ServerTrust(string? AuthorizedKeys, string? Peer, bool AcceptAny)
{
    /// <summary>
    /// At most one choice may be given; where <paramref name="requireChoice"/> is set, exactly one, so that a verb
    /// that writes into the file system or opens a service never does so for anyone by default.
    /// </summary>
    public ServerTrust Check(string verb, bool requireChoice)
    {
        int chosen = (AuthorizedKeys is null ? 0 : 1) + (Peer is null ? 0 : 1) + (AcceptAny ? 1 : 0);
        if (chosen > 1)
        {
            throw new UsageException("Give only one of --authorized-keys, --peer and --accept-any.");
        }
        if (chosen == 0 && requireChoice)
        {
            throw new UsageException($"`{verb}` serves only the clients you name: give --authorized-keys FILE, --peer KEY|FINGERPRINT, or --accept-any to serve anyone who can reach the port.");
        }
        return this;
    }
}
