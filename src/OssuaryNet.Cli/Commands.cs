using System.CommandLine;
using System.Net;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>The verbs of the ossuary tool, one file per group; here the options they share and their common output. Each action returns an exit code; failures are mapped in Program.</summary>
internal static partial class Commands
{
    public const string PipeProtocol = "ossuary-pipe/1";
    public const string TunnelProtocol = "ossuary-tunnel/1";

    public static readonly Option<string?> Key = new("--key", "-k") { Description = "Identity key file (default: $XDG_CONFIG_HOME/ossuary/id, else ~/.config/ossuary/id; created on first use).", Recursive = true };

    public static readonly Option<string?> KnownHostsFile = new("--known-hosts") { Description = "Known-hosts file for trust on first use (default: beside the key).", Recursive = true };

    public static readonly Option<OssuaryPostQuantum> PostQuantum = new("--pq")
    {
        Description = "Post-quantum hybrid handshake (ML-KEM-768 beside X25519) for verbs that connect or listen: off, preferred (offer it; TCP verbs fall back to classical only on first contact with a server without it, UDP verbs never) or required. Default: preferred.",
        DefaultValueFactory = _ => OssuaryPostQuantum.Preferred,
        Recursive = true,
    };

    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Show handshake details and transfer statistics on stderr.", Recursive = true };

    private static readonly Option<string?> Peer = new("--peer") { Description = "Pin the server: its public key (one-round-trip IK handshake) or its fingerprint. Without it, the known-hosts file is used." };

    private static readonly Option<TofuMode?> Tofu = new("--tofu") { Description = "First contact with an unknown server: ask (only with a terminal), accept (record it) or reject. Default: ask on a terminal, else accept." };

    private static readonly Option<string?> AuthorizedKeysFile = new("--authorized-keys") { Description = "Accept only clients whose keys are in this file." };

    private static readonly Option<string?> ClientPeer = new("--peer") { Description = "Accept only this client: its public key or its fingerprint." };

    private static readonly Option<bool> AcceptAny = new("--accept-any") { Description = "Accept any client key: anyone who can reach the port." };

    private static readonly Option<int> IdleTimeoutSeconds = new("--idle-timeout")
    {
        Description = "Close a connection that has received nothing for this many seconds; keep-alive pings every quarter of it keep a live peer connected. 0 disables it.",
        DefaultValueFactory = _ => 120,
    };

    private static readonly Option<int?> MaxConnections = new("--max-connections")
    {
        Description = "How many connections may be open at once (handshakes included); more wait in the kernel's backlog. Default: from the descriptor limit (ulimit -n).",
    };

    private static readonly Option<double> ConnectTimeoutSeconds = new("--timeout")
    {
        Description = "Give up when the connection and its handshake take longer than this many seconds (exit code 3).",
        DefaultValueFactory = _ => 30,
    };

    /// <summary>The --timeout of a connecting verb.</summary>
    private static TimeSpan ConnectTimeout(ParseResult result)
    {
        double seconds = result.GetValue(ConnectTimeoutSeconds);
        return seconds > 0 && seconds <= int.MaxValue / 1000
            ? TimeSpan.FromSeconds(seconds)
            : throw new UsageException("--timeout takes a number of seconds greater than 0.");
    }

    /// <summary>What a connecting verb reports when --timeout passed first (exit code 3).</summary>
    private static OssuaryException ConnectTimedOut(string endpoint, TimeSpan limit, Exception cause) =>
        new(OssuaryErrorCode.HandshakeTimeout, $"No secure connection to {endpoint} within {limit.TotalSeconds:0.###} s (--timeout).", cause);

    /// <summary>
    /// Connects a client verb to its server within --timeout. A changed key or a stripped post-quantum handshake is
    /// tagged with the endpoint, so that the banner can name it in its `known-hosts remove` hint; failures the library
    /// words for its API (PostQuantum = Off) are worded with the tool's options.
    /// </summary>
    private static Task<OssuaryStream> ConnectToServerAsync(string host, int port, OssuaryClientOptions options, ParseResult result, CancellationToken cancellationToken) =>
        ConnectToServerAsync(host, port, options, ConnectTimeout(result), cancellationToken);

    /// <summary>Connects to a server within <paramref name="limit"/> (see the overload that reads it from --timeout).</summary>
    private static async Task<OssuaryStream> ConnectToServerAsync(string host, int port, OssuaryClientOptions options, TimeSpan limit, CancellationToken cancellationToken)
    {
        string endpoint = OssuaryClient.EndpointName(new DnsEndPoint(host, port));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            return await ConnectOrLearnPinnedKeyAsync(host, port, options, limit, deadline.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested
                                  && (e is OperationCanceledException || e is OssuaryException { ErrorCode: OssuaryErrorCode.HandshakeTimeout }))
        {
            throw ConnectTimedOut(endpoint, limit, e);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.UnsupportedPattern && options.PostQuantum == OssuaryPostQuantum.Required)
        {
            throw new OssuaryException(e.ErrorCode,
                $"{e.Message} With --pq required no classical handshake is accepted; --pq preferred falls back to one on first contact with a server.", e);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.PostQuantumDowngrade && options.PostQuantum != OssuaryPostQuantum.Off
                                          && options.PeerVerifier is OssuaryNet.Trust.KnownHosts knownHosts)
        {
            // Offered the hybrid handshake, the server refused it, and known hosts records it as having spoken it.
            string file = PrintableText.Escape(knownHosts.Path);
            throw new OssuaryException(e.ErrorCode,
                $"{endpoint} refused the post-quantum hybrid handshake, but {file} records that it has completed it before: someone on the path may be stripping it. " +
                $"If the server really went back to classical handshakes, remove \"pq\" from its entry in {file} (until then --pq off is refused too).", e)
            {
                Data = { [Program.EndpointKey] = endpoint },
            };
        }
        catch (OssuaryException e) when (e.ErrorCode is OssuaryErrorCode.PeerKeyChanged or OssuaryErrorCode.PostQuantumDowngrade)
        {
            e.Data[Program.EndpointKey] = endpoint;
            throw;
        }
    }

    /// <summary>
    /// Connects; when a key given with --peer fails the one-round-trip IK handshake (the server cannot prove it holds
    /// that key), connects once more with XX to learn the key it does hold, which the same pinned verifier then refuses
    /// naming both fingerprints (exit code 4) instead of an AuthenticationFailed that can only guess why. No downgrade:
    /// the XX handshake is judged by the same verifier, which accepts only the pinned key.
    /// </summary>
    private static async Task<OssuaryStream> ConnectOrLearnPinnedKeyAsync(string host, int port, OssuaryClientOptions options, TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            return await OssuaryClient.ConnectAsync(host, port, options, limit, cancellationToken);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.AuthenticationFailed && options.ServerKey is not null)
        {
            OssuaryClientOptions learn = options.Clone();
            learn.ServerKey = null;
            return await OssuaryClient.ConnectAsync(host, port, learn, limit, cancellationToken);
        }
    }

    /// <summary>The options every listening verb has.</summary>
    private static IEnumerable<Option> ListenerOptions() => [AuthorizedKeysFile, ClientPeer, AcceptAny, IdleTimeoutSeconds, MaxConnections];

    private static ServerTrust ServerTrustFrom(ParseResult result) =>
        new(result.GetValue(AuthorizedKeysFile), result.GetValue(ClientPeer), result.GetValue(AcceptAny));

    /// <summary>
    /// A started listener with the limits of OssuaryListener (connection cap from the descriptor limit, per-address
    /// handshake limits, stall eviction) and the verb's idle timeout with keep-alives.
    /// </summary>
    private static OssuaryListener StartListener(IPEndPoint endpoint, OssuaryServerOptions options, ParseResult result, Output output)
    {
        int idleSeconds = result.GetValue(IdleTimeoutSeconds);
        if (idleSeconds < 0)
        {
            throw new UsageException("--idle-timeout takes a number of seconds, 0 or more.");
        }
        int? maxConnections = result.GetValue(MaxConnections);
        if (maxConnections is < 1)
        {
            throw new UsageException("--max-connections takes a number of connections, 1 or more.");
        }
        int defaultCap = OssuaryListener.DefaultMaxConnections(OssuaryListener.DefaultMaxPendingHandshakes);
        if (maxConnections > defaultCap)
        {
            // Past the descriptor limit, accepting fails (the listener backs off) and the runtime may fail to start threads.
            output.Note($"--max-connections {maxConnections} may need more descriptors than `ulimit -n` allows (the default here would be {defaultCap})");
        }
        return StartListener(endpoint, options, idleSeconds, maxConnections, output);
    }

    /// <summary>
    /// <see cref="StartListener(IPEndPoint, OssuaryServerOptions, ParseResult, Output)"/> with checked limits:
    /// <paramref name="idleSeconds"/> 0 or more (0: no idle timeout), <paramref name="maxConnections"/> 1 or more, or
    /// null for the default from the descriptor limit.
    /// </summary>
    internal static OssuaryListener StartListener(IPEndPoint endpoint, OssuaryServerOptions options, int idleSeconds, int? maxConnections, Output output)
    {
        TimeSpan idle = idleSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(idleSeconds);
        int defaultCap = OssuaryListener.DefaultMaxConnections(OssuaryListener.DefaultMaxPendingHandshakes);
        OssuaryListener listener;
        try
        {
            listener = new OssuaryListener(endpoint, options) // binds
            {
                MaxConnections = maxConnections ?? defaultCap,
                HandshakeFailed = (e, client) => ReportFailedHandshake(e, client?.ToString()),
                IdleTimeout = idle,
                KeepAliveInterval = idleSeconds == 0 ? Timeout.InfiniteTimeSpan : idle / 4,
            };
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw OssuaryNet.Streams.SocketFailure.Listening(endpoint.ToString(), e); // a port in use, an address not this machine's
        }
        try
        {
            listener.Start();
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return listener;
    }

    /// <summary>
    /// A failed handshake on the process's <see cref="RefusalLog"/>, by default: the verifier's own refusals have been
    /// reported by it (with the fingerprint), so only the other failures are written here.
    /// </summary>
    private static void ReportFailedHandshake(Exception error, string? client)
    {
        if (error is OssuaryException { IsPeerAlert: false, ErrorCode: OssuaryErrorCode.PeerRejected or OssuaryErrorCode.PostQuantumDowngrade or OssuaryErrorCode.PeerKeyChanged })
        {
            return;
        }
        RefusalLog.Process.HandshakeFailed(client, error is OssuaryException e ? $"{e.Message} ({e.ErrorCode})" : error.Message);
    }

    private static void Describe(OssuaryStream stream, Output output)
    {
        output.Detail($"peer {stream.RemotePublicKey} fingerprint {stream.RemotePublicKey!.Fingerprint}");
        output.Detail($"protocol {stream.NoiseProtocolName}, application protocol {stream.ApplicationProtocol ?? "(none)"}");
        output.Detail($"handshake hash {Convert.ToHexStringLower(stream.HandshakeHash)}");
    }
}
