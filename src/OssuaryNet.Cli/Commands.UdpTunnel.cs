using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>
/// `udp-forward` and `udp-serve`: the two ends of an encrypted UDP tunnel, the datagram counterparts of `forward` and
/// `serve`. Each local flow (source address) gets its own secure connection; flows idle for a while are closed.
/// </summary>
internal static partial class Commands
{
    private static readonly Option<bool> Stats = new("--stats") { Description = "Print the datagram statistics (drops by reason included) to stderr on exit." };

    private static readonly Option<int> FlowIdleSeconds = new("--flow-idle")
    {
        Description = "Close a flow's secure connection after this many seconds without a datagram either way.",
        DefaultValueFactory = _ => 60,
    };

    public static Command UdpForward()
    {
        var listen = new Option<string>("--listen") { Description = "Plaintext UDP address to take local datagrams on, e.g. 127.0.0.1:5353.", Required = true };
        var to = new Option<string>("--to") { Description = "The ossuary server (running `ossuary udp-serve`) to tunnel to.", Required = true };
        var command = new Command("udp-forward", "UDP tunnel entrance: carry every UDP flow arriving on a local address, encrypted, to an `ossuary udp-serve`; replies come back to the flow's sender.\n\nExample:\n  ossuary udp-forward --listen 127.0.0.1:5353 --to server.example:7000")
        {
            listen, to, Peer, Tofu, Stats, FlowIdleSeconds, ConnectTimeoutSeconds,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(to)!);
            IPEndPoint local = Endpoints.ParseLocal(result.GetValue(listen)!);
            TimeSpan flowIdle = TimeSpan.FromSeconds(CheckPositive(result.GetValue(FlowIdleSeconds), "--flow-idle"));
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            OssuaryClientOptions trust = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), TunnelProtocol, result.GetValue(PostQuantum));
            // The local port first: one in use is the first thing to report, before any handshake.
            using var plain = new Socket(local.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            Endpoints.BindUdp(plain, local);
            IPEndPoint remote = await Endpoints.ResolveAsync(host, port, cancellationToken);
            await using OssuaryUdpEndpoint secure = OssuaryUdpEndpoint.Bind(
                new IPEndPoint(remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0),
                TunnelOptions(key, result.GetValue(PostQuantum), acceptConnections: false), trust.PeerVerifier);
            // The server is checked before any flow is taken: a changed key or a refusal ends the verb as `forward` does.
            OssuaryUdpConnection probe;
            TimeSpan limit = ConnectTimeout(result);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(limit);
            try
            {
                probe = await secure.ConnectAsync(remote, trust.ServerKey, cancellationToken: deadline.Token);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw ConnectTimedOut(remote.ToString(), limit, e);
            }
            catch (OssuaryException e) when (e.ErrorCode is OssuaryErrorCode.PeerKeyChanged or OssuaryErrorCode.PostQuantumDowngrade)
            {
                e.Data[Program.EndpointKey] = remote.ToString(); // the name the known-hosts file records
                throw;
            }
            output.Detail($"{remote} is {probe.PeerFingerprint}");
            probe.Close(DatagramCloseCodes.Probe);

            output.Note($"forwarding udp {plain.LocalEndPoint} to {host}:{port}");
            await ForwardFlowsAsync(plain, secure, remote, trust.ServerKey, flowIdle, output, cancellationToken);
            PrintStatisticsIf(result, secure, output);
            cancellationToken.ThrowIfCancellationRequested(); // interrupted: exit 130, as the TCP verbs
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The UDP tunnel entrance's loop: every flow (source address) arriving on <paramref name="plain"/> (bound) gets its
    /// own secure connection from <paramref name="secure"/> to the server at <paramref name="remote"/>, pinned to
    /// <paramref name="serverKey"/> when given; flows idle for <paramref name="flowIdle"/> close. Returns, with its
    /// flows stopped, when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    internal static async Task ForwardFlowsAsync(Socket plain, OssuaryUdpEndpoint secure, IPEndPoint remote, OssuaryPublicKey? serverKey, TimeSpan flowIdle,
        Output output, CancellationToken cancellationToken)
    {
        var flows = new Dictionary<string, UdpFlow>();
        using var sweep = new PeriodicTimer(TimeSpan.FromSeconds(1));
        _ = SweepIdleFlowsAsync(flows, flowIdle, sweep, output);
        byte[] buffer = new byte[65536];
        var from = new SocketAddress(plain.AddressFamily);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                int length = await plain.ReceiveFromAsync(buffer, SocketFlags.None, from, cancellationToken);
                string id = Convert.ToHexString(from.Buffer.Span[..from.Size]);
                UdpFlow? flow;
                lock (flows)
                {
                    if (!flows.TryGetValue(id, out flow))
                    {
                        var sender = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from);
                        flow = new UdpFlow(sender);
                        flows.Add(id, flow);
                        flow.Run(secure.ConnectAsync(remote, serverKey, cancellationToken: cancellationToken), remote.ToString(), plain, secure.MaxPayloadSize, output);
                    }
                }
                flow.Enqueue(buffer.AsSpan(0, length));
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (flows)
            {
                foreach (UdpFlow flow in flows.Values)
                {
                    flow.Stop(DatagramCloseCodes.ShuttingDown); // a stopped tunnel of `run` leaves no flow waiting on its closed sockets
                }
            }
        }
    }

    public static Command UdpServe()
    {
        var listen = new Option<string>("--listen") { Description = "UDP address to take encrypted datagrams on, e.g. 0.0.0.0:7000.", Required = true };
        var to = new Option<string>("--to") { Description = "Plaintext UDP service to hand each flow's datagrams to, e.g. 127.0.0.1:53.", Required = true };
        var command = new Command("udp-serve", "UDP tunnel exit: take encrypted flows from `ossuary udp-forward` and hand their datagrams, in plaintext, to a local UDP service; its replies go back through the tunnel. Each flow is one datagram-mode connection (service label \"ossuary-tunnel/1\", docs/PROTOCOL.md section 12) with a socket of its own to the service; a connection is made only once its peer has proven its keys, and flows are bounded by the descriptor limit.\n\nExample:\n  ossuary udp-serve --listen 0.0.0.0:7000 --to 127.0.0.1:53 --authorized-keys ~/.config/ossuary/authorized_keys")
        {
            listen, to, AuthorizedKeysFile, ClientPeer, AcceptAny, Stats, FlowIdleSeconds,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(to)!);
            IPEndPoint local = Endpoints.ParseLocal(result.GetValue(listen)!);
            TimeSpan flowIdle = TimeSpan.FromSeconds(CheckPositive(result.GetValue(FlowIdleSeconds), "--flow-idle"));
            ServerTrust trust = ServerTrustFrom(result).Check("udp-serve", requireChoice: true);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            IPEndPoint service = await Endpoints.ResolveAsync(host, port, cancellationToken);
            await using OssuaryUdpEndpoint secure = Endpoints.BindSecureUdp(local,
                TunnelOptions(key, result.GetValue(PostQuantum), acceptConnections: true),
                TrustSettings.Server(key, trust, TunnelProtocol, result.GetValue(PostQuantum)).PeerVerifier);
            output.Note($"serving udp {secure.LocalEndPoint} to {host}:{port}, fingerprint {key.PublicKey.Fingerprint}");
            await AcceptFlowsAsync(secure, service, flowIdle, output, cancellationToken);
            PrintStatisticsIf(result, secure, output);
            cancellationToken.ThrowIfCancellationRequested(); // interrupted: exit 130, as the TCP verbs
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The UDP tunnel exit's loop: every flow <paramref name="secure"/> accepts has its datagrams handed to
    /// <paramref name="service"/> from a socket of its own, and the service's replies sent back; flows idle for
    /// <paramref name="flowIdle"/> close. Returns when <paramref name="cancellationToken"/> is cancelled or the
    /// endpoint is disposed.
    /// </summary>
    internal static async Task AcceptFlowsAsync(OssuaryUdpEndpoint secure, IPEndPoint service, TimeSpan flowIdle, Output output, CancellationToken cancellationToken)
    {
        var flows = new UdpServiceFlows(service, flowIdle, secure.MaxPayloadSize, output);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                OssuaryUdpConnection flow = await secure.AcceptAsync(cancellationToken);
                output.Detail($"flow from {flow.RemoteEndPoint} ({flow.PeerFingerprint}, {flow.Pattern})");
                flows.Serve(flow);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
    }

    private static int CheckPositive(int value, string option) =>
        value > 0 ? value : throw new UsageException($"{option} takes a number of seconds, 1 or more.");

    /// <summary>
    /// The tunnel's datagram options. With a post-quantum policy other than off the largest datagram is 1400 bytes, the
    /// least a hybrid Initiation needs (so tunnelled datagrams may be up to 1367 bytes); classical tunnels keep 1200.
    /// A server's connections are as many as its descriptors allow a socket each (less 64 for the rest of the process),
    /// half of them for one source IP, and all for one key: each key is a client the operator chose.
    /// </summary>
    internal static DatagramOptions TunnelOptions(OssuaryKeyPair key, OssuaryPostQuantum policy, bool acceptConnections)
    {
        int flows = Interop.DescriptorLimit.Current() is long limit ? (int)Math.Clamp(limit - 64, 16, 16384) : 16384;
        return new DatagramOptions
        {
            Identity = key,
            ServiceLabel = TunnelProtocol,
            AcceptConnections = acceptConnections,
            PostQuantum = policy,
            MaxDatagramSize = policy == OssuaryPostQuantum.Off ? 1200 : DatagramOptions.MinHybridDatagramSize,
            MaxConnections = flows,
            MaxConnectionsPerSource = Math.Max(1, flows / 2),
            MaxConnectionsPerPeer = flows,
        };
    }

    private static async Task SweepIdleFlowsAsync(Dictionary<string, UdpFlow> flows, TimeSpan idle, PeriodicTimer sweep, Output output)
    {
        try
        {
            while (await sweep.WaitForNextTickAsync())
            {
                lock (flows)
                {
                    foreach (var (id, flow) in flows.Where(f => f.Value.IdleFor > idle || f.Value.Ended).ToArray())
                    {
                        flows.Remove(id);
                        flow.Stop(flow.Ended ? DatagramCloseCodes.Normal : DatagramCloseCodes.Idle);
                        output.Detail($"flow from {flow.Sender} closed ({(flow.Ended ? "ended" : "idle")})");
                    }
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static void PrintStatisticsIf(ParseResult result, OssuaryUdpEndpoint endpoint, Output output)
    {
        if (!result.GetValue(Stats))
        {
            return;
        }
        DatagramStatistics s = endpoint.Statistics;
        output.Note("datagram statistics");
        output.Note($"  packets in / out          {s.TotalPacketsIn:N0} / {s.TotalPacketsOut:N0}");
        output.Note($"  bytes in / out            {s.TotalBytesIn:N0} / {s.TotalBytesOut:N0}");
        output.Note($"  handshakes                {s.HandshakesCompleted:N0} completed, {s.HandshakesTimedOut:N0} timed out, {s.HandshakesRejected:N0} rejected, {s.HandshakesUnconfirmed:N0} unconfirmed, {s.HandshakeRetransmissions:N0} retransmissions");
        output.Note($"  cookie replies / tokens   {s.CookieRepliesSent:N0} / {s.TokensAccepted:N0} accepted");
        output.Note($"  rekeys, roaming           {s.Rekeys:N0}, {s.RoamingEvents:N0}");
        output.Note($"  early data                {s.EarlyDataAccepted:N0} accepted, {s.EarlyDataRefused:N0} refused");
        output.Note($"  connections closed        {s.ConnectionsUnused:N0} unused, {s.ConnectionsEvicted:N0} evicted for newcomers");
        output.Note($"  connections now           {s.Connections:N0}");
        output.Note($"  dropped                   {s.TotalDropped:N0}");
        foreach (DatagramDropReason reason in Enum.GetValues<DatagramDropReason>())
        {
            if (s.Dropped(reason) > 0)
            {
                output.Note($"    {reason,-24}{s.Dropped(reason):N0}");
            }
        }
    }
}
