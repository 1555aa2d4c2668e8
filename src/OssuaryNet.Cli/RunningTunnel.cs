using System.Net;
using System.Net.Sockets;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// One started tunnel of `run`: its socket bound, and the loop of the verb of the same mode running on it. Stopping it
/// stops accepting; a TCP tunnel's live connections go on until they end or the process stops (they are cancelled
/// by the host's token, not the tunnel's), while a UDP tunnel's flows, which all live on its socket, end with it.
/// </summary>
internal sealed class RunningTunnel : IAsyncDisposable
{
    private readonly CancellationTokenSource _accepting = new();
    private readonly List<Func<ValueTask>> _resources = [];
    private readonly Output _output;
    private Task _loop = Task.CompletedTask;

    private RunningTunnel(TunnelDefinition definition, OssuaryKeyPair key, SwappableVerifier? serverTrust, Output output)
    {
        Definition = definition;
        Key = key;
        ServerTrust = serverTrust;
        _output = output;
    }

    public TunnelDefinition Definition { get; private set; }

    public OssuaryKeyPair Key { get; }

    /// <summary>A server tunnel's client policy, swapped in place on reload; null for client tunnels.</summary>
    private SwappableVerifier? ServerTrust { get; }

    /// <summary>The loop; it faults only on a failure the verb would have exited with.</summary>
    public Task Loop => _loop;

    /// <summary>Whether <see cref="StopAsync"/> was called: the loop's end is then expected.</summary>
    public bool Stopping => _accepting.IsCancellationRequested;

    /// <summary>
    /// Binds the tunnel's sockets and starts its loop. <paramref name="flows"/> ends the TCP connections it carries
    /// (the host's shutdown). Throws, with nothing left open, when an address cannot be bound or resolved.
    /// </summary>
    public static async Task<RunningTunnel> StartAsync(TunnelDefinition definition, PreparedRun run, Output output, CancellationToken flows)
    {
        SwappableVerifier? serverTrust = definition.IsServer ? new SwappableVerifier(run.ServerTrust[definition.Name]) : null;
        var tunnel = new RunningTunnel(definition, run.Key, serverTrust, output);
        try
        {
            switch (definition.Mode)
            {
                case TunnelMode.Forward:
                    tunnel.StartForward(run.ClientTrust[definition.Name], flows);
                    break;
                case TunnelMode.Serve:
                    tunnel.StartServe(flows);
                    break;
                case TunnelMode.UdpForward:
                    await tunnel.StartUdpForwardAsync(run.ClientTrust[definition.Name], flows);
                    break;
                case TunnelMode.UdpServe:
                    await tunnel.StartUdpServeAsync(flows);
                    break;
            }
        }
        catch
        {
            await tunnel.StopAsync();
            throw;
        }
        return tunnel;
    }

    /// <summary>Takes <paramref name="definition"/>'s client policy in place (see <see cref="TunnelDefinition.DiffersOnlyInServerTrust"/>).</summary>
    public void TakeServerTrust(TunnelDefinition definition, PeerVerifier verifier)
    {
        ServerTrust!.Current = verifier;
        Definition = definition;
    }

    private void StartForward(OssuaryClientOptions options, CancellationToken flows)
    {
        var plain = Own(new Socket(Definition.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        ListeningSocket.Bind(plain, Definition.Listen);
        plain.Listen(512);
        _output.Note($"forwarding {plain.LocalEndPoint} to {Definition.ToHost}:{Definition.ToPort}");
        _loop = Commands.ForwardConnectionsAsync(plain, Definition.ToHost, Definition.ToPort, options, Definition.ConnectTimeout, _output, _accepting.Token, flows);
    }

    private void StartServe(CancellationToken flows)
    {
        var options = new OssuaryServerOptions
        {
            StaticKeyPair = Key,
            PostQuantum = Definition.PostQuantum,
            PeerVerifier = ServerTrust,
            ApplicationProtocols = TunnelStatus.Protocols,
        };
        OssuaryListener listener = Own(Commands.StartListener(Definition.Listen, options, Definition.IdleTimeoutSeconds, Definition.MaxConnections, _output));
        _output.Note($"serving {listener.LocalEndpoint} to {Definition.ToHost}:{Definition.ToPort}");
        _loop = Commands.ServeConnectionsAsync(listener, Definition.ToHost, Definition.ToPort, _output, _accepting.Token, flows);
    }

    private async Task StartUdpForwardAsync(OssuaryClientOptions trust, CancellationToken flows)
    {
        // The local port first, as udp-forward binds it: one in use is the first thing to report.
        var plain = Own(new Socket(Definition.Listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        Endpoints.BindUdp(plain, Definition.Listen);
        IPEndPoint remote = await Endpoints.ResolveAsync(Definition.ToHost, Definition.ToPort, flows);
        OssuaryUdpEndpoint secure = Own(OssuaryUdpEndpoint.Bind(
            new IPEndPoint(remote.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0),
            Commands.TunnelOptions(Key, Definition.PostQuantum, acceptConnections: false), trust.PeerVerifier));
        _output.Note($"forwarding udp {plain.LocalEndPoint} to {Definition.ToHost}:{Definition.ToPort}");
        _loop = Commands.ForwardFlowsAsync(plain, secure, remote, trust.ServerKey, Definition.FlowIdle, _output, _accepting.Token);
    }

    private async Task StartUdpServeAsync(CancellationToken flows)
    {
        IPEndPoint service = await Endpoints.ResolveAsync(Definition.ToHost, Definition.ToPort, flows);
        OssuaryUdpEndpoint secure = Own(Endpoints.BindSecureUdp(Definition.Listen,
            Commands.TunnelOptions(Key, Definition.PostQuantum, acceptConnections: true), ServerTrust));
        _output.Note($"serving udp {secure.LocalEndPoint} to {Definition.ToHost}:{Definition.ToPort}");
        _loop = Commands.AcceptFlowsAsync(secure, service, Definition.FlowIdle, _output, _accepting.Token);
    }

    /// <summary>Stops accepting and closes the tunnel's sockets (a TCP tunnel's carried connections stay open).</summary>
    public async Task StopAsync()
    {
        if (_accepting.IsCancellationRequested)
        {
            return;
        }
        await _accepting.CancelAsync();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // the loop's expected end
        }
        finally
        {
            foreach (Func<ValueTask> dispose in Enumerable.Reverse(_resources))
            {
                await dispose();
            }
            _resources.Clear();
            _accepting.Dispose();
        }
    }

    /// <summary>The same as <see cref="StopAsync"/>.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());

    private Socket Own(Socket socket)
    {
        _resources.Add(() =>
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        });
        return socket;
    }

    private T Own<T>(T resource) where T : IAsyncDisposable
    {
        _resources.Add(resource.DisposeAsync);
        return resource;
    }
}
