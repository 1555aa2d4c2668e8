using OssuaryNet.Identity;
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
    public static OssuaryClientOptions Client(OssuaryKeyPair key, string? peer, TofuMode? tofu, string? knownHostsPath, string protocol)
    {
        var options = new OssuaryClientOptions { StaticKeyPair = key, ApplicationProtocols = [protocol] };
        if (peer is not null)
        {
            if (OssuaryPublicKey.TryParse(peer, out OssuaryPublicKey? pinned))
            {
                options.ServerKey = pinned;
                options.PeerVerifier = PeerVerifier.Pinned(pinned);
                return options;
            }
            string fingerprint = peer.Trim().ToLowerInvariant();
            if (!System.Text.RegularExpressions.Regex.IsMatch(fingerprint, "^([a-z2-7]{4}-){7}[a-z2-7]{4}$"))
            {
                throw new UsageException($"--peer takes a public key (44 characters of base64) or a fingerprint (xxxx-xxxx-...-xxxx), not '{peer}'.");
            }
            options.PeerVerifier = PeerVerifier.FromCallback(identity => identity.PublicKey.Fingerprint == fingerprint
                ? PeerVerdict.Accept()
                : PeerVerdict.Reject($"The server's fingerprint is {identity.PublicKey.Fingerprint}, not {fingerprint} as given with --peer."));
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
        };
        return options;
    }

    /// <summary>Server side: any client, unless --authorized-keys names a file of allowed keys.</summary>
    public static OssuaryServerOptions Server(OssuaryKeyPair key, string? authorizedKeys, string protocol) => new()
    {
        StaticKeyPair = key,
        PeerVerifier = authorizedKeys is null ? PeerVerifier.AcceptAny : AuthorizedKeys.Load(authorizedKeys),
        ApplicationProtocols = [protocol],
    };

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

    /// <summary>Asks on the controlling terminal (not stdin, which may carry data), as ssh does.</summary>
    private static bool AskOnTerminal(PeerIdentity peer)
    {
        try
        {
            using var tty = new FileStream("/dev/tty", FileMode.Open, FileAccess.ReadWrite);
            using var writer = new StreamWriter(tty) { AutoFlush = true };
            using var reader = new StreamReader(tty);
            writer.Write($"The authenticity of '{peer.Endpoint}' can't be established.\nIts key fingerprint is {peer.PublicKey.Fingerprint}.\nTrust it and continue connecting (yes/no)? ");
            string? answer = reader.ReadLine()?.Trim().ToLowerInvariant();
            return answer is "yes" or "y";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
