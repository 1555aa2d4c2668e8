using System.CommandLine;

namespace OssuaryNet.Cli;

/// <summary>The verbs of the ossuary tool, one file per group; here the options they share and their common output. Each action returns an exit code; failures are mapped in Program.</summary>
internal static partial class Commands
{
    public const string PipeProtocol = "ossuary-pipe/1";
    public const string TunnelProtocol = "ossuary-tunnel/1";

    public static readonly Option<string?> Key = new("--key", "-k") { Description = "Identity key file (default: $XDG_CONFIG_HOME/ossuary/id, else ~/.config/ossuary/id; created on first use).", Recursive = true };

    public static readonly Option<string?> KnownHostsFile = new("--known-hosts") { Description = "Known-hosts file for trust on first use (default: beside the key).", Recursive = true };

    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Show handshake details and transfer statistics on stderr.", Recursive = true };

    private static readonly Option<string?> Peer = new("--peer") { Description = "Pin the server: its public key (one-round-trip IK handshake) or its fingerprint. Without it, the known-hosts file is used." };

    private static readonly Option<TofuMode?> Tofu = new("--tofu") { Description = "First contact with an unknown server: ask (only with a terminal), accept (record it) or reject. Default: ask on a terminal, else accept." };

    private static readonly Option<string?> AuthorizedKeysFile = new("--authorized-keys") { Description = "Accept only clients whose keys are in this file (default: accept any client)." };

    private static void Describe(OssuaryStream stream, Output output)
    {
        output.Detail($"peer {stream.RemotePublicKey} fingerprint {stream.RemotePublicKey!.Fingerprint}");
        output.Detail($"protocol {stream.NoiseProtocolName}, application protocol {stream.ApplicationProtocol ?? "(none)"}");
        output.Detail($"handshake hash {Convert.ToHexStringLower(stream.HandshakeHash)}");
    }
}
