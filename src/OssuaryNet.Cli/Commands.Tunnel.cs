using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>`forward` and `serve`: the two ends of an encrypted TCP tunnel, in the manner of spiped.</summary>
internal static partial class Commands
{
    public static Command Forward()
    {
        var listen = new Option<string>("--listen") { Description = "Plaintext address to accept local connections on, e.g. 127.0.0.1:5432.", Required = true };
        var to = new Option<string>("--to") { Description = "The ossuary server (running `ossuary serve`) to tunnel to.", Required = true };
        var command = new Command("forward", "Tunnel entrance: accept plaintext TCP connections and carry each, encrypted, to an `ossuary serve` (like spiped -e).\n\nExample:\n  ossuary forward --listen 127.0.0.1:5432 --to db.example:7000")
        {
            listen, to, Peer, Tofu, ConnectTimeoutSeconds,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(to)!);
            IPEndPoint local = Endpoints.ParseLocal(result.GetValue(listen)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var options = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), TunnelStatus.Protocols, result.GetValue(PostQuantum));
            using var plain = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                ListeningSocket.Bind(plain, local);
            }
            catch (SocketException e)
            {
                throw OssuaryNet.Streams.SocketFailure.Listening(local.ToString(), e);
            }
            plain.Listen(512);
            output.Note($"forwarding {plain.LocalEndPoint} to {host}:{port}");
            await ForwardConnectionsAsync(plain, host, port, options, ConnectTimeout(result), output, cancellationToken, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The tunnel entrance's loop: each plaintext connection accepted on <paramref name="plain"/> (bound and
    /// listening) is carried, encrypted, to the server at <paramref name="host"/>:<paramref name="port"/>.
    /// <paramref name="accepting"/> ends the loop; <paramref name="flows"/> ends the connections it started, which
    /// otherwise outlive it (a reloaded `run` stops accepting on a tunnel without cutting its live connections).
    /// </summary>
    internal static async Task ForwardConnectionsAsync(Socket plain, string host, int port, OssuaryClientOptions options, TimeSpan connectTimeout,
        Output output, CancellationToken accepting, CancellationToken flows)
    {
        while (!accepting.IsCancellationRequested)
        {
            Socket client = await plain.AcceptAsync(accepting);
            client.NoDelay = true;
            _ = Task.Run(async () =>
            {
                await using var local = new NetworkStream(client, ownsSocket: true);
                try
                {
                    await using OssuaryStream remote = await ConnectToServerAsync(host, port, options, connectTimeout, flows);
                    await TunnelStatus.ExpectServiceReachedAsync(remote, $"{host}:{port}", flows);
                    output.Detail($"{client.RemoteEndPoint} -> {host}:{port} ({remote.NoiseProtocolName})");
                    var (up, down) = await Pump.BothWaysAsync(local, remote, flows);
                    output.Detail($"{client.RemoteEndPoint} closed: {up:N0} bytes up, {down:N0} down");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    output.Note($"connection from {client.RemoteEndPoint}: {ExitCodes.Classify(e).Message}");
                    if (e is OssuaryException { ErrorCode: OssuaryErrorCode.PeerKeyChanged or OssuaryErrorCode.PostQuantumDowngrade })
                    {
                        Program.PrintBanner(e);
                    }
                }
            }, CancellationToken.None);
        }
    }

    public static Command Serve()
    {
        var listen = new Option<string>("--listen") { Description = "Address to accept encrypted connections on, e.g. 0.0.0.0:7000.", Required = true };
        var to = new Option<string>("--to") { Description = "Plaintext service to deliver each connection to, e.g. 127.0.0.1:5432.", Required = true };
        var command = new Command("serve", "Tunnel exit: accept encrypted connections from `ossuary forward` and deliver each, in plaintext, to a local service (like spiped -d).\n\nExample:\n  ossuary serve --listen 0.0.0.0:7000 --to 127.0.0.1:5432 --authorized-keys ~/.config/ossuary/authorized_keys")
        {
            listen, to,
        };
        foreach (Option option in ListenerOptions())
        {
            command.Options.Add(option);
        }
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(to)!);
            IPEndPoint local = Endpoints.ParseLocal(result.GetValue(listen)!);
            ServerTrust trust = ServerTrustFrom(result).Check("serve", requireChoice: true);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            await using OssuaryListener listener = StartListener(local,
                TrustSettings.Server(key, trust, TunnelStatus.Protocols, result.GetValue(PostQuantum)), result, output);
            output.Note($"serving {listener.LocalEndpoint} to {host}:{port}, fingerprint {key.PublicKey.Fingerprint}");
            await ServeConnectionsAsync(listener, host, port, output, cancellationToken, cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// The tunnel exit's loop: each authenticated connection from <paramref name="listener"/> (started) is delivered,
    /// in plaintext, to the service at <paramref name="host"/>:<paramref name="port"/>. <paramref name="accepting"/>
    /// ends the loop; <paramref name="flows"/> ends the connections it started, which otherwise outlive it and the
    /// listener (disposing an OssuaryListener leaves the streams it handed out open).
    /// </summary>
    internal static async Task ServeConnectionsAsync(OssuaryListener listener, string host, int port, Output output, CancellationToken accepting, CancellationToken flows)
    {
        while (!accepting.IsCancellationRequested)
        {
            OssuaryStream remote = await listener.AcceptAsync(accepting);
            _ = Task.Run(async () =>
            {
                await using (remote)
                {
                    try
                    {
                        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                        try
                        {
                            await socket.ConnectAsync(host, port, flows);
                        }
                        catch (SocketException e)
                        {
                            await TunnelStatus.SendAsync(remote, reached: false, flows);
                            throw new IOException($"Cannot reach the service {host}:{port}: {OssuaryNet.Streams.SocketFailure.Meaning(e.SocketErrorCode, $"{host}:{port}", e.Message)}.", e);
                        }
                        await TunnelStatus.SendAsync(remote, reached: true, flows);
                        await using var local = new NetworkStream(socket, ownsSocket: false);
                        output.Detail($"{remote.RemotePublicKey!.Fingerprint} -> {host}:{port}");
                        var (up, down) = await Pump.BothWaysAsync(remote, local, flows);
                        output.Detail($"{remote.RemotePublicKey.Fingerprint} closed: {up:N0} bytes in, {down:N0} out");
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        output.Note($"tunnel for {remote.RemotePublicKey?.Fingerprint}: {ExitCodes.Classify(e).Message}");
                    }
                }
            }, CancellationToken.None);
        }
    }
}
