using System.Net;

namespace OssuaryNet.Cli;

/// <summary>The four kinds of tunnel end that `run` starts, as the verbs of the same names.</summary>
internal enum TunnelMode
{
    Forward,
    Serve,
    UdpForward,
    UdpServe,
}

/// <summary>
/// One tunnel of a `run` configuration, with every default filled in and every path absolute. Two definitions are
/// equal when the tunnel they describe would behave the same, which is how a reload tells a kept tunnel from a changed
/// one (where in the file it was written does not count).
/// </summary>
internal sealed record TunnelDefinition(string Name, TunnelMode Mode, IPEndPoint Listen, string ToHost, int ToPort, OssuaryPostQuantum PostQuantum)
{
    /// <summary>Client modes: the server's key or fingerprint; server modes: the one client's.</summary>
    public string? Peer { get; init; }

    /// <summary>Client modes without <see cref="Peer"/>: first contact with an unknown server (never asked: `run` has no terminal).</summary>
    public TofuMode Tofu { get; init; } = TofuMode.Accept;

    /// <summary>Client modes: the known-hosts file.</summary>
    public string? KnownHosts { get; init; }

    /// <summary>`forward`: the connection and handshake limit of each carried connection.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Server modes: the authorized-keys file.</summary>
    public string? AuthorizedKeys { get; init; }

    /// <summary>Server modes: serve anyone who can reach the port.</summary>
    public bool AcceptAny { get; init; }

    /// <summary>`serve`: seconds without a received byte before a connection is closed (0: never).</summary>
    public int IdleTimeoutSeconds { get; init; } = 120;

    /// <summary>`serve`: the connection cap, or null for the default from the descriptor limit.</summary>
    public int? MaxConnections { get; init; }

    /// <summary>UDP modes: how long a flow may be silent both ways before its connection closes.</summary>
    public TimeSpan FlowIdle { get; init; } = TimeSpan.FromSeconds(60);

    public bool IsServer => Mode is TunnelMode.Serve or TunnelMode.UdpServe;

    public bool IsUdp => Mode is TunnelMode.UdpForward or TunnelMode.UdpServe;

    /// <summary>The verb that does what this tunnel does, as the file names the mode.</summary>
    public string ModeName => Names[Mode];

    public ServerTrust ServerTrust => new(AuthorizedKeys, Peer, AcceptAny);

    /// <summary>
    /// Whether <paramref name="next"/> is this server tunnel with at most another client policy: a running tunnel takes
    /// that in place, without closing its socket (a UDP tunnel's flows all live on it).
    /// </summary>
    public bool DiffersOnlyInServerTrust(TunnelDefinition next) =>
        IsServer && WithoutServerTrust() == next.WithoutServerTrust();

    private TunnelDefinition WithoutServerTrust() => this with { AuthorizedKeys = null, Peer = null, AcceptAny = false };

    public static readonly IReadOnlyDictionary<TunnelMode, string> Names = new Dictionary<TunnelMode, string>
    {
        [TunnelMode.Forward] = "forward",
        [TunnelMode.Serve] = "serve",
        [TunnelMode.UdpForward] = "udp-forward",
        [TunnelMode.UdpServe] = "udp-serve",
    };
}
