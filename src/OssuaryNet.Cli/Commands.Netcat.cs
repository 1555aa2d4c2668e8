using System.CommandLine;
using System.Net;
using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>`listen` and `connect`: a secure netcat between stdin/stdout and the peer, with half-close.</summary>
internal static partial class Commands
{
    public static Command Listen()
    {
        var port = new Argument<int>("PORT") { Description = "TCP port to listen on." };
        var bind = new Option<string>("--bind") { Description = "Address to listen on.", DefaultValueFactory = _ => "0.0.0.0" };
        var command = new Command("listen", "A secure netcat server: accept one client, then copy stdin to it and its data to stdout.\nEnd of stdin sends the authenticated close; the other direction keeps flowing until the client closes.\n\nExamples:\n  ossuary listen 7000 > received.tar\n  ossuary listen 7000 --authorized-keys ~/.config/ossuary/authorized_keys")
        {
            port, bind,
        };
        foreach (Option option in ListenerOptions())
        {
            command.Options.Add(option);
        }
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            var endpoint = new IPEndPoint(Endpoints.ParseBind(result.GetValue(bind)!), Endpoints.CheckPort(result.GetValue(port)));
            ServerTrust trust = ServerTrustFrom(result).Check("listen", requireChoice: false);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            await using OssuaryListener listener = StartListener(endpoint,
                TrustSettings.Server(key, trust, PipeProtocol, result.GetValue(PostQuantum)), result, output);
            output.Note($"listening on {listener.LocalEndpoint}, fingerprint {key.PublicKey.Fingerprint}");
            await using OssuaryStream stream = await listener.AcceptAsync(cancellationToken);
            Describe(stream, output);
            return await PipeStandardStreams(stream, $"the client ({stream.RemotePublicKey!.Fingerprint})", output, cancellationToken);
        });
        return command;
    }

    public static Command Connect()
    {
        var target = new Argument<string>("HOST:PORT") { Description = "The server." };
        var command = new Command("connect", "A secure netcat client: copy stdin to the server and its data to stdout, with proper half-close.\n\nExamples:\n  tar c dir | ossuary connect backup.example:7000\n  ossuary connect 10.0.0.5:7000 --peer D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA=")
        {
            target, Peer, Tofu, ConnectTimeoutSeconds,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(target)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var options = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), PipeProtocol, result.GetValue(PostQuantum));
            await using OssuaryStream stream = await ConnectToServerAsync(host, port, options, result, cancellationToken);
            Describe(stream, output);
            return await PipeStandardStreams(stream, $"{host}:{port}", output, cancellationToken);
        });
        return command;
    }

    /// <summary>Copies stdin to the peer and the peer's data to stdout; a connection that breaks is reported naming <paramref name="peer"/>.</summary>
    private static async Task<int> PipeStandardStreams(OssuaryStream stream, string peer, Output output, CancellationToken cancellationToken)
    {
        try
        {
            return await PipeStandardStreamsCoreAsync(stream, output, cancellationToken);
        }
        catch (IOException e) when (e is not OssuaryException && e.InnerException is System.Net.Sockets.SocketException socket)
        {
            throw new IOException($"The connection with {peer} broke: {OssuaryNet.Streams.SocketFailure.Meaning(socket.SocketErrorCode, null, socket.Message)}.", e);
        }
    }

    private static async Task<int> PipeStandardStreamsCoreAsync(OssuaryStream stream, Output output, CancellationToken cancellationToken)
    {
        await using Stream stdin = Console.OpenStandardInput();
        await using Stream stdout = Console.OpenStandardOutput();
        Task<long> toPeer = Pump.OneWayAsync(stdin, stream, cancellationToken);
        Task<long> fromPeer = Task.Run(async () =>
        {
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await stdout.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await stdout.FlushAsync(cancellationToken);
                total += read;
            }
            return total;
        }, cancellationToken);
        long received, sent;
        if (Console.IsInputRedirected)
        {
            // Piped input has an end: both directions run to their authenticated closes, whichever order they come in.
            await Task.WhenAll(toPeer, fromPeer);
            (received, sent) = (fromPeer.Result, toPeer.Result);
        }
        else
        {
            // An interactive terminal never ends by itself: once the peer has closed, close our side too and stop.
            received = await fromPeer;
            sent = -1;
            if (!toPeer.IsCompleted)
            {
                await stream.ShutdownAsync(cancellationToken);
            }
        }
        output.Detail($"received {received:N0} bytes{(sent >= 0 ? $", sent {sent:N0}" : "")}");
        return ExitCodes.Success;
    }
}
