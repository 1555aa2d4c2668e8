using System.Globalization;
using System.Net;
using OssuaryNet.Protocol;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;

namespace OssuaryNet.Cli;

/// <summary>
/// Reads a `run` configuration (TOML) into a <see cref="RunConfiguration"/>, or into every mistake it has, each one
/// line naming the file, the line and the key. Only the file itself is read here: the key and trust files it names
/// are checked by <see cref="PreparedRun"/>. Relative paths are relative to the configuration's directory.
/// </summary>
internal static class RunConfigurationReader
{
    private static readonly string[] TopLevelKeys = ["key", "known_hosts", "pq", "tunnels", "metrics"];
    private static readonly string[] MetricsKeys = ["enabled", "listen"];

    /// <summary>The keys each mode takes, besides mode, listen, to and pq.</summary>
    private static readonly Dictionary<TunnelMode, string[]> ModeKeys = new()
    {
        [TunnelMode.Forward] = ["peer", "tofu", "timeout"],
        [TunnelMode.Serve] = ["authorized_keys", "peer", "accept_any", "idle_timeout", "max_connections"],
        [TunnelMode.UdpForward] = ["peer", "tofu", "flow_idle"],
        [TunnelMode.UdpServe] = ["authorized_keys", "peer", "accept_any", "flow_idle"],
    };

    private static readonly string[] CommonKeys = ["mode", "listen", "to", "pq"];

    /// <summary>The longest file read: far beyond any set of tunnels, short of a file that is not a configuration.</summary>
    private const long MaxBytes = 1 << 20;

    public static (RunConfiguration? Configuration, IReadOnlyList<ConfigMistake> Mistakes) Read(string path)
    {
        var mistakes = new List<ConfigMistake>();
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return (null, [new ConfigMistake(path, null, null, "no such file")]);
            }
            if (info.Length > MaxBytes)
            {
                return (null, [new ConfigMistake(path, null, null, $"is {info.Length:N0} bytes long: not a tunnel configuration")]);
            }
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, [new ConfigMistake(path, null, null, $"cannot be read: {e.Message}")]);
        }

        // The syntax tree reports every syntax error with its position (and a key defined twice, which the object
        // model would silently take the last of).
        var syntax = SyntaxParser.Parse(text, path, validate: true);
        if (syntax.HasErrors)
        {
            foreach (var diagnostic in syntax.Diagnostics.Where(d => d.Kind == Tomlyn.Syntax.DiagnosticMessageKind.Error))
            {
                mistakes.Add(new ConfigMistake(path, diagnostic.Span.Start.Line + 1, null, $"{diagnostic.Message} (column {diagnostic.Span.Start.Column + 1})"));
            }
            return (null, mistakes);
        }
        var store = new TomlMetadataStore();
        TomlTable model;
        try
        {
            model = TomlSerializer.Deserialize<TomlTable>(text, new TomlSerializerOptions { MetadataStore = store, SourceName = path })!;
        }
        catch (TomlException e)
        {
            return (null, [new ConfigMistake(path, e.Line, null, e.Message)]);
        }

        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        var root = new TomlTableReader(model, store, "", 1, path, mistakes, lines);
        string directory = Path.GetDirectoryName(path)!;
        string? keyPath = PathValue(root, "key", directory);
        string? knownHosts = PathValue(root, "known_hosts", directory);
        OssuaryPostQuantum defaultPostQuantum = PostQuantumValue(root, "pq") ?? OssuaryPostQuantum.Preferred;
        MetricsSettings? metrics = ReadMetrics(root.Table("metrics"));
        var tunnels = new List<TunnelDefinition>();
        TomlTableReader? tunnelTables = root.Table("tunnels");
        if (tunnelTables is not null && tunnelTables.Keys.Any())
        {
            foreach (string name in tunnelTables.Keys.ToArray())
            {
                TomlTableReader? table = tunnelTables.Table(name);
                if (table is not null && ReadTunnel(name, table, directory, knownHosts, defaultPostQuantum) is TunnelDefinition tunnel)
                {
                    tunnels.Add(tunnel);
                }
            }
            CheckDistinctListenAddresses(tunnels, path, lines, mistakes);
        }
        else if (tunnelTables is not null || !root.Has("tunnels")) // a "tunnels" that is not a table is a mistake already
        {
            root.TableMistake("no tunnels: add one as a [tunnels.NAME] table with mode, listen and to");
        }
        root.RejectUnknown("", TopLevelKeys);
        // In the order of the file, as a reader goes through it to fix them.
        return mistakes.Count > 0
            ? (null, mistakes.OrderBy(m => m.Line ?? 0).ToList())
            : (new RunConfiguration(path, keyPath, tunnels, metrics, lines), mistakes);
    }

    private static TunnelDefinition? ReadTunnel(string name, TomlTableReader table, string directory, string? knownHosts, OssuaryPostQuantum defaultPostQuantum)
    {
        int before = table.Mistakes.Count;
        string? modeText = table.String("mode", required: true);
        TunnelMode? mode = null;
        if (modeText is not null)
        {
            mode = TunnelDefinition.Names.Where(m => m.Value == modeText).Select(m => (TunnelMode?)m.Key).FirstOrDefault();
            if (mode is null)
            {
                table.Mistake("mode", $"'{PrintableText.Escape(modeText)}' is not a mode: use forward, serve, udp-forward or udp-serve");
            }
        }
        IPEndPoint? listen = Parse(table, "listen", required: true, text => Endpoints.ParseLocal(text));
        (string Host, int Port)? to = Parse(table, "to", required: true, text => Endpoints.Parse(text));
        OssuaryPostQuantum postQuantum = PostQuantumValue(table, "pq") ?? defaultPostQuantum;
        if (mode is not TunnelMode known)
        {
            foreach (string key in table.Keys)
            {
                table.Accept(key); // the other keys cannot be judged without a mode
            }
            return null;
        }
        var definition = new TunnelDefinition(name, known, listen ?? new IPEndPoint(IPAddress.None, 0), to?.Host ?? "", to?.Port ?? 0, postQuantum);
        string? peer = table.String("peer");
        if (peer is not null && !PeerText.IsKeyOrFingerprint(peer))
        {
            table.Mistake("peer", $"'{PrintableText.Escape(peer)}' is neither a public key (44 characters of base64) nor a fingerprint (xxxx-xxxx-...-xxxx)");
        }
        definition = definition with { Peer = peer };
        definition = definition.IsServer ? WithServerTrust(definition, table, directory) : WithClientTrust(definition, table, knownHosts);
        definition = WithLimits(definition, table);
        table.RejectUnknown($"for mode {definition.ModeName} ", [.. CommonKeys, .. ModeKeys[known]]);
        return table.Mistakes.Count == before ? definition : null;
    }

    /// <summary>A server mode's client policy: exactly one of authorized_keys, peer (read already) and accept_any.</summary>
    private static TunnelDefinition WithServerTrust(TunnelDefinition definition, TomlTableReader table, string directory)
    {
        string? authorizedKeys = PathValue(table, "authorized_keys", directory);
        bool acceptAny = table.Bool("accept_any") ?? false;
        int chosen = (authorizedKeys is null ? 0 : 1) + (definition.Peer is null ? 0 : 1) + (acceptAny ? 1 : 0);
        if (chosen != 1)
        {
            table.TableMistake(chosen == 0
                ? "serves nobody: give authorized_keys = \"FILE\", peer = \"KEY|FINGERPRINT\", or accept_any = true to serve anyone who can reach the port"
                : "give only one of authorized_keys, peer and accept_any");
        }
        return definition with { AuthorizedKeys = authorizedKeys, AcceptAny = acceptAny };
    }

    /// <summary>A client mode's first-contact policy (accept or reject: `run` has no terminal to ask on) and known-hosts file.</summary>
    private static TunnelDefinition WithClientTrust(TunnelDefinition definition, TomlTableReader table, string? knownHosts)
    {
        string? tofu = table.String("tofu");
        if (tofu is not null and not "accept" and not "reject")
        {
            table.Mistake("tofu", tofu == "ask"
                ? "'ask' needs a terminal, which `run` does not have: use accept or reject"
                : $"'{PrintableText.Escape(tofu)}' is not a first-contact policy: use accept or reject");
        }
        return definition with { Tofu = tofu == "reject" ? TofuMode.Reject : TofuMode.Accept, KnownHosts = knownHosts ?? CliPaths.DefaultKnownHosts };
    }

    /// <summary>The timeouts and limits of each mode, with the verbs' defaults.</summary>
    private static TunnelDefinition WithLimits(TunnelDefinition definition, TomlTableReader table)
    {
        const int MaxSeconds = int.MaxValue / 1000;
        switch (definition.Mode)
        {
            case TunnelMode.Forward:
                double? timeout = table.Number("timeout");
                if (timeout is <= 0 or > MaxSeconds)
                {
                    table.Mistake("timeout", "must be a number of seconds greater than 0");
                    return definition;
                }
                return definition with { ConnectTimeout = TimeSpan.FromSeconds(timeout ?? 30) };
            case TunnelMode.Serve:
                long? idle = table.Integer("idle_timeout");
                if (idle is < 0 or > MaxSeconds)
                {
                    table.Mistake("idle_timeout", "must be a number of seconds, 0 (never) or more");
                }
                long? cap = table.Integer("max_connections");
                if (cap is < 1 or > int.MaxValue)
                {
                    table.Mistake("max_connections", "must be a number of connections, 1 or more");
                }
                return definition with
                {
                    IdleTimeoutSeconds = (int)Math.Clamp(idle ?? 120, 0, MaxSeconds),
                    MaxConnections = cap is >= 1 and <= int.MaxValue ? (int)cap : null,
                };
            default:
                long? flowIdle = table.Integer("flow_idle");
                if (flowIdle is < 1 or > MaxSeconds)
                {
                    table.Mistake("flow_idle", "must be a number of seconds, 1 or more");
                }
                return definition with { FlowIdle = TimeSpan.FromSeconds(Math.Clamp(flowIdle ?? 60, 1, MaxSeconds)) };
        }
    }

    private static MetricsSettings? ReadMetrics(TomlTableReader? table)
    {
        if (table is null)
        {
            return null;
        }
        bool enabled = table.Bool("enabled") ?? false;
        IPEndPoint? listen = Parse(table, "listen", required: false, text => Endpoints.ParseLocal(text));
        if (listen is { Port: 0 })
        {
            table.Mistake("listen", "needs a port: the scrape endpoint cannot be given one by the system");
        }
        if (!table.Has("enabled"))
        {
            table.TableMistake("give enabled = true to serve metrics (they are off by default)");
        }
        table.RejectUnknown("", MetricsKeys);
        return enabled ? new MetricsSettings(listen ?? MetricsSettings.DefaultListen) : null;
    }

    /// <summary>Two tunnels cannot listen on one address of one transport (a port of 0 is the system's choice, always free).</summary>
    private static void CheckDistinctListenAddresses(List<TunnelDefinition> tunnels, string path, Dictionary<string, int> lines, List<ConfigMistake> mistakes)
    {
        var seen = new Dictionary<(bool Udp, IPEndPoint Listen), string>();
        foreach (TunnelDefinition tunnel in tunnels.Where(t => t.Listen.Port != 0))
        {
            if (seen.TryGetValue((tunnel.IsUdp, tunnel.Listen), out string? other))
            {
                string key = $"tunnels.{tunnel.Name}.listen";
                mistakes.Add(new ConfigMistake(path, lines.GetValueOrDefault(key), key, $"{tunnel.Listen} is already the {(tunnel.IsUdp ? "UDP" : "TCP")} address of tunnels.{other}"));
            }
            else
            {
                seen.Add((tunnel.IsUdp, tunnel.Listen), tunnel.Name);
            }
        }
    }

    /// <summary>A value parsed by the verbs' own parser, whose one-line message becomes the mistake.</summary>
    private static T? Parse<T>(TomlTableReader table, string key, bool required, Func<string, T> parse)
    {
        string? text = table.String(key, required);
        if (text is null)
        {
            return default;
        }
        try
        {
            return parse(text);
        }
        catch (UsageException e)
        {
            table.Mistake(key, e.Message);
            return default;
        }
    }

    private static OssuaryPostQuantum? PostQuantumValue(TomlTableReader table, string key)
    {
        string? text = table.String(key);
        switch (text)
        {
            case null:
                return null;
            case "off":
                return OssuaryPostQuantum.Off;
            case "preferred":
                return OssuaryPostQuantum.Preferred;
            case "required":
                return OssuaryPostQuantum.Required;
            default:
                table.Mistake(key, $"'{PrintableText.Escape(text)}' is not a post-quantum policy: use off, preferred or required");
                return null;
        }
    }

    /// <summary>A file path, made absolute against the configuration's directory; '~' is not expanded, so it is refused.</summary>
    private static string? PathValue(TomlTableReader table, string key, string directory)
    {
        string? text = table.String(key);
        if (text is null)
        {
            return null;
        }
        if (text.Length == 0 || text.StartsWith('~'))
        {
            table.Mistake(key, text.Length == 0 ? "is empty" : "'~' is not expanded here: give an absolute path, or one relative to this file");
            return null;
        }
        return Path.GetFullPath(text, directory);
    }
}
