using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// A <see cref="RunConfiguration"/> with the files it names loaded: the identity key, and each tunnel's trust (the
/// client policy of a server tunnel, the server policy of a client tunnel). Loading them all before anything starts
/// or changes is what lets a reload with a broken authorized-keys file change nothing.
/// </summary>
internal sealed class PreparedRun
{
    private PreparedRun(RunConfiguration configuration, OssuaryKeyPair key, Dictionary<string, PeerVerifier> serverTrust, Dictionary<string, OssuaryClientOptions> clientTrust)
    {
        Configuration = configuration;
        Key = key;
        ServerTrust = serverTrust;
        ClientTrust = clientTrust;
    }

    public RunConfiguration Configuration { get; }

    /// <summary>The identity; owned by whoever runs the tunnels, who disposes it when none uses it any more.</summary>
    public OssuaryKeyPair Key { get; }

    /// <summary>The verifier of each server tunnel, by name.</summary>
    public IReadOnlyDictionary<string, PeerVerifier> ServerTrust { get; }

    /// <summary>The client options of each client tunnel, by name.</summary>
    public IReadOnlyDictionary<string, OssuaryClientOptions> ClientTrust { get; }

    /// <summary>Reads <paramref name="path"/> and loads what it names; every mistake, in the file or in those it names, is listed.</summary>
    public static (PreparedRun? Run, IReadOnlyList<ConfigMistake> Mistakes) Load(string path, Output output)
    {
        (RunConfiguration? configuration, IReadOnlyList<ConfigMistake> mistakes) = RunConfigurationReader.Read(path);
        return configuration is null ? (null, mistakes) : Prepare(configuration, output);
    }

    private static (PreparedRun? Run, IReadOnlyList<ConfigMistake> Mistakes) Prepare(RunConfiguration configuration, Output output)
    {
        var mistakes = new List<ConfigMistake>();
        OssuaryKeyPair key;
        try
        {
            key = Identity.LoadOrCreate(configuration.KeyPath, output);
        }
        catch (OssuaryException e)
        {
            bool named = configuration.KeyPath is not null;
            return (null, [new ConfigMistake(configuration.Path, named ? configuration.LineOf("key") : null, named ? "key" : null, e.Message, InNamedFile: true)]);
        }
        var serverTrust = new Dictionary<string, PeerVerifier>(StringComparer.Ordinal);
        var clientTrust = new Dictionary<string, OssuaryClientOptions>(StringComparer.Ordinal);
        foreach (TunnelDefinition tunnel in configuration.Tunnels)
        {
            string trustKey = $"tunnels.{tunnel.Name}.{(tunnel.AuthorizedKeys is not null ? "authorized_keys" : "peer")}";
            try
            {
                if (!tunnel.IsServer)
                {
                    clientTrust[tunnel.Name] = TrustSettings.Client(key, tunnel.Peer, tunnel.Tofu, tunnel.KnownHosts, ProtocolsOf(tunnel), tunnel.PostQuantum);
                }
                else if (tunnel.AuthorizedKeys is string file && !File.Exists(file))
                {
                    // Loading a missing file gives an empty set, which would refuse every client without a word.
                    mistakes.Add(new ConfigMistake(configuration.Path, configuration.LineOf(trustKey), trustKey, $"'{file}' does not exist", InNamedFile: true));
                }
                else
                {
                    serverTrust[tunnel.Name] = TrustSettings.Server(key, tunnel.ServerTrust, ProtocolsOf(tunnel), tunnel.PostQuantum).PeerVerifier!;
                }
            }
            catch (Exception e) when (e is OssuaryException or UsageException)
            {
                mistakes.Add(new ConfigMistake(configuration.Path, configuration.LineOf(trustKey), trustKey, e.Message, InNamedFile: e is OssuaryException));
            }
        }
        if (mistakes.Count > 0)
        {
            key.Dispose();
            return (null, mistakes);
        }
        return (new PreparedRun(configuration, key, serverTrust, clientTrust), mistakes);
    }

    /// <summary>A TCP tunnel speaks the tunnel protocol's versions as the verbs do (the status byte of version 2); a UDP one its service label.</summary>
    private static string[] ProtocolsOf(TunnelDefinition tunnel) => tunnel.IsUdp ? [Commands.TunnelProtocol] : TunnelStatus.Protocols;
}
