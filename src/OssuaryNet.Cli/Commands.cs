using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>The verbs of the ossuary tool. Each action returns an exit code; failures are mapped in Program.</summary>
internal static class Commands
{
    public const string PipeProtocol = "ossuary-pipe/1";
    public const string TunnelProtocol = "ossuary-tunnel/1";

    public static readonly Option<string?> Key = new("--key", "-k") { Description = "Identity key file (default: $XDG_CONFIG_HOME/ossuary/id, else ~/.config/ossuary/id; created on first use).", Recursive = true };
    public static readonly Option<string?> KnownHostsFile = new("--known-hosts") { Description = "Known-hosts file for trust on first use (default: beside the key).", Recursive = true };
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Show handshake details and transfer statistics on stderr.", Recursive = true };
    private static readonly Option<string?> Peer = new("--peer") { Description = "Pin the server: its public key (one-round-trip IK handshake) or its fingerprint. Without it, the known-hosts file is used." };
    private static readonly Option<TofuMode?> Tofu = new("--tofu") { Description = "First contact with an unknown server: ask (only with a terminal), accept (record it) or reject. Default: ask on a terminal, else accept." };
    private static readonly Option<string?> AuthorizedKeysFile = new("--authorized-keys") { Description = "Accept only clients whose keys are in this file (default: accept any client)." };

    public static Command Keygen()
    {
        var force = new Option<bool>("--force", "-f") { Description = "Replace an existing key file." };
        var command = new Command("keygen", "Create an identity key pair (private key file mode 0600, public key beside it as .pub).\n\nExamples:\n  ossuary keygen\n  ossuary keygen --key ./server.key") { force };
        command.SetAction(result =>
        {
            string path = result.GetValue(Key) ?? CliPaths.DefaultKey;
            if (File.Exists(path) && !result.GetValue(force))
            {
                throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"'{path}' already exists; refusing to overwrite it (use --force to replace it).");
            }
            using OssuaryKeyPair key = OssuaryKeyPair.Generate();
            key.Save(path, overwrite: result.GetValue(force));
            Console.WriteLine($"private key  {path}");
            Console.WriteLine($"public key   {key.PublicKey}");
            Console.WriteLine($"fingerprint  {key.PublicKey.Fingerprint}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Id()
    {
        var command = new Command("id", "Print this identity's public key and fingerprint (give the key to peers who want to pin you).\n\nExample:\n  ossuary id");
        command.SetAction(result =>
        {
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), new Output(result.GetValue(Verbose)));
            Console.WriteLine($"public key   {key.PublicKey}");
            Console.WriteLine($"fingerprint  {key.PublicKey.Fingerprint}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Listen()
    {
        var port = new Argument<int>("PORT") { Description = "TCP port to listen on." };
        var bind = new Option<string>("--bind") { Description = "Address to listen on.", DefaultValueFactory = _ => "0.0.0.0" };
        var command = new Command("listen", "A secure netcat server: accept one client, then copy stdin to it and its data to stdout.\nEnd of stdin sends the authenticated close; the other direction keeps flowing until the client closes.\n\nExamples:\n  ossuary listen 7000 > received.tar\n  ossuary listen 7000 --authorized-keys ~/.config/ossuary/authorized_keys")
        {
            port, bind, AuthorizedKeysFile,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var endpoint = new IPEndPoint(IPAddress.Parse(result.GetValue(bind)!), Endpoints.CheckPort(result.GetValue(port)));
            await using var listener = new OssuaryListener(endpoint, TrustSettings.Server(key, result.GetValue(AuthorizedKeysFile), PipeProtocol))
            {
                HandshakeFailed = (e, client) => output.Note($"handshake with {client} failed: {e.Message}"),
            };
            listener.Start();
            output.Note($"listening on {listener.LocalEndpoint}, fingerprint {key.PublicKey.Fingerprint}");
            await using OssuaryStream stream = await listener.AcceptAsync(cancellationToken);
            Describe(stream, output);
            return await PipeStandardStreams(stream, output, cancellationToken);
        });
        return command;
    }

    public static Command Connect()
    {
        var target = new Argument<string>("HOST:PORT") { Description = "The server." };
        var command = new Command("connect", "A secure netcat client: copy stdin to the server and its data to stdout, with proper half-close.\n\nExamples:\n  tar c dir | ossuary connect backup.example:7000\n  ossuary connect 10.0.0.5:7000 --peer D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA=")
        {
            target, Peer, Tofu,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(target)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var options = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), PipeProtocol);
            await using OssuaryStream stream = await OssuaryClient.ConnectAsync(host, port, options, cancellationToken: cancellationToken);
            Describe(stream, output);
            return await PipeStandardStreams(stream, output, cancellationToken);
        });
        return command;
    }

    public static Command Forward()
    {
        var listen = new Option<string>("--listen") { Description = "Plaintext address to accept local connections on, e.g. 127.0.0.1:5432.", Required = true };
        var to = new Option<string>("--to") { Description = "The ossuary server (running `ossuary serve`) to tunnel to.", Required = true };
        var command = new Command("forward", "Tunnel entrance: accept plaintext TCP connections and carry each, encrypted, to an `ossuary serve` (like spiped -e).\n\nExample:\n  ossuary forward --listen 127.0.0.1:5432 --to db.example:7000")
        {
            listen, to, Peer, Tofu,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(to)!);
            IPEndPoint local = Endpoints.ParseLocal(result.GetValue(listen)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var options = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), TunnelProtocol);
            using var plain = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            plain.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            plain.Bind(local);
            plain.Listen(512);
            output.Note($"forwarding {plain.LocalEndPoint} to {host}:{port}");
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client = await plain.AcceptAsync(cancellationToken);
                client.NoDelay = true;
                _ = Task.Run(async () =>
                {
                    await using var local = new NetworkStream(client, ownsSocket: true);
                    try
                    {
                        await using OssuaryStream remote = await OssuaryClient.ConnectAsync(host, port, options, cancellationToken: cancellationToken);
                        output.Detail($"{client.RemoteEndPoint} -> {host}:{port} ({remote.NoiseProtocolName})");
                        var (up, down) = await Pump.BothWaysAsync(local, remote, cancellationToken);
                        output.Detail($"{client.RemoteEndPoint} closed: {up:N0} bytes up, {down:N0} down");
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        output.Note($"connection from {client.RemoteEndPoint}: {ExitCodes.Classify(e).Message}");
                        if (e is OssuaryException { ErrorCode: OssuaryErrorCode.PeerKeyChanged })
                        {
                            Program.PrintKeyChangedBanner(e.Message);
                        }
                    }
                }, CancellationToken.None);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Serve()
    {
        var listen = new Option<string>("--listen") { Description = "Address to accept encrypted connections on, e.g. 0.0.0.0:7000.", Required = true };
        var to = new Option<string>("--to") { Description = "Plaintext service to deliver each connection to, e.g. 127.0.0.1:5432.", Required = true };
        var command = new Command("serve", "Tunnel exit: accept encrypted connections from `ossuary forward` and deliver each, in plaintext, to a local service (like spiped -d).\n\nExample:\n  ossuary serve --listen 0.0.0.0:7000 --to 127.0.0.1:5432 --authorized-keys ~/.config/ossuary/authorized_keys")
        {
            listen, to, AuthorizedKeysFile,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            (string host, int port) = Endpoints.Parse(result.GetValue(to)!);
            IPEndPoint local = Endpoints.ParseLocal(result.GetValue(listen)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            await using var listener = new OssuaryListener(local, TrustSettings.Server(key, result.GetValue(AuthorizedKeysFile), TunnelProtocol))
            {
                HandshakeFailed = (e, client) => output.Note($"handshake with {client} failed: {e.Message}"),
            };
            listener.Start();
            output.Note($"serving {listener.LocalEndpoint} to {host}:{port}, fingerprint {key.PublicKey.Fingerprint}");
            while (!cancellationToken.IsCancellationRequested)
            {
                OssuaryStream remote = await listener.AcceptAsync(cancellationToken);
                _ = Task.Run(async () =>
                {
                    await using (remote)
                    {
                        try
                        {
                            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                            await socket.ConnectAsync(host, port, cancellationToken);
                            await using var local = new NetworkStream(socket, ownsSocket: false);
                            output.Detail($"{remote.RemotePublicKey!.Fingerprint} -> {host}:{port}");
                            var (up, down) = await Pump.BothWaysAsync(remote, local, cancellationToken);
                            output.Detail($"{remote.RemotePublicKey.Fingerprint} closed: {up:N0} bytes in, {down:N0} out");
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            output.Note($"tunnel for {remote.RemotePublicKey?.Fingerprint}: {ExitCodes.Classify(e).Message}");
                        }
                    }
                }, CancellationToken.None);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Send()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The file to send." };
        var target = new Argument<string>("HOST:PORT") { Description = "The receiver (running `ossuary receive`)." };
        var command = new Command("send", "Send one file to `ossuary receive`, verified end to end (SHA-256), with a progress bar on a terminal.\n\nExample:\n  ossuary send backup.tar nas.example:7001")
        {
            file, target, Peer, Tofu,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            FileInfo source = result.GetValue(file)!;
            if (!source.Exists)
            {
                throw new UsageException($"No such file: '{source.FullName}'.");
            }
            (string host, int port) = Endpoints.Parse(result.GetValue(target)!);
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var options = TrustSettings.Client(key, result.GetValue(Peer), result.GetValue(Tofu), result.GetValue(KnownHostsFile), FileTransfer.Protocol);
            await using OssuaryStream stream = await OssuaryClient.ConnectAsync(host, port, options, cancellationToken: cancellationToken);
            Describe(stream, output);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await TransferProgress.RunAsync($"sending {source.Name}", source.Length, async progress =>
            {
                await FileTransfer.SendAsync(stream, source.FullName, progress, cancellationToken);
                return 0;
            });
            output.Note($"sent {source.Name}: {source.Length:N0} bytes in {clock.Elapsed.TotalSeconds:0.00} s ({source.Length / Math.Max(clock.Elapsed.TotalSeconds, 1e-3) / 1e6:0.0} MB/s), verified by the receiver");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Receive()
    {
        var port = new Argument<int>("PORT") { Description = "TCP port to listen on." };
        var directory = new Option<string>("--out", "-o") { Description = "Directory to store the file in.", DefaultValueFactory = _ => "." };
        var bind = new Option<string>("--bind") { Description = "Address to listen on.", DefaultValueFactory = _ => "0.0.0.0" };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite a file of the same name." };
        var command = new Command("receive", "Receive one file from `ossuary send`. Nothing appears under the final name unless the whole file arrived and its hash matched.\n\nExample:\n  ossuary receive 7001 --out ~/incoming")
        {
            port, directory, bind, force, AuthorizedKeysFile,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), output);
            var endpoint = new IPEndPoint(IPAddress.Parse(result.GetValue(bind)!), Endpoints.CheckPort(result.GetValue(port)));
            await using var listener = new OssuaryListener(endpoint, TrustSettings.Server(key, result.GetValue(AuthorizedKeysFile), FileTransfer.Protocol))
            {
                HandshakeFailed = (e, client) => output.Note($"handshake with {client} failed: {e.Message}"),
            };
            listener.Start();
            output.Note($"waiting for a file on {listener.LocalEndpoint}, fingerprint {key.PublicKey.Fingerprint}");
            await using OssuaryStream stream = await listener.AcceptAsync(cancellationToken);
            Describe(stream, output);
            string outDirectory = result.GetValue(directory)!;
            bool overwrite = result.GetValue(force);
            FileTransfer.Offer offer = await FileTransfer.ReadOfferAsync(stream, outDirectory, overwrite, cancellationToken);
            output.Note($"receiving {offer.Name} ({offer.Size:N0} bytes) from {stream.RemotePublicKey!.Fingerprint}");
            string path = await TransferProgress.RunAsync($"receiving {offer.Name}", offer.Size,
                progress => FileTransfer.ReceiveAsync(stream, offer, outDirectory, overwrite, progress, cancellationToken));
            output.Note($"stored {path} ({offer.Size:N0} bytes, SHA-256 verified)");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command KnownHosts()
    {
        var list = new Command("list", "List recorded servers and their fingerprints.");
        list.SetAction(result =>
        {
            foreach ((string endpoint, OssuaryPublicKey key) in new OssuaryNet.Trust.KnownHosts(KnownHostsPath(result)).Entries)
            {
                Console.WriteLine($"{endpoint}  {key.Fingerprint}  {key}");
            }
            return ExitCodes.Success;
        });
        var endpointArgument = new Argument<string>("HOST:PORT") { Description = "The recorded endpoint." };
        var remove = new Command("remove", "Forget a server's key (after a legitimate key change).\n\nExample:\n  ossuary known-hosts remove db.example:7000") { endpointArgument };
        remove.SetAction(result =>
        {
            string endpoint = result.GetValue(endpointArgument)!;
            if (!new OssuaryNet.Trust.KnownHosts(KnownHostsPath(result)).Remove(endpoint))
            {
                throw new UsageException($"{endpoint} is not in {KnownHostsPath(result)}.");
            }
            Console.WriteLine($"removed {endpoint}");
            return ExitCodes.Success;
        });
        return new Command("known-hosts", "Manage the servers this client trusts (trust on first use).") { list, remove };
    }

    public static Command AuthorizedKeys()
    {
        var file = new Option<string?>("--file") { Description = "The authorized-keys file (default: beside the key).", Recursive = true };
        var keyArgument = new Argument<string>("KEY") { Description = "A public key (base64)." };
        var comment = new Argument<string?>("COMMENT") { Description = "A note kept with the key.", Arity = ArgumentArity.ZeroOrOne };
        var add = new Command("add", "Allow a client key.\n\nExample:\n  ossuary authorized-keys add D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA= alice@laptop") { keyArgument, comment };
        add.SetAction(result =>
        {
            OssuaryPublicKey key = OssuaryPublicKey.TryParse(result.GetValue(keyArgument), out var parsed) ? parsed : throw new UsageException("KEY must be a public key (44 characters of base64).");
            string path = result.GetValue(file) ?? CliPaths.DefaultAuthorizedKeys;
            bool added = TrustFileEdit(path, lines =>
            {
                if (lines.Any(line => line.Split(' ')[0] == key.ToString()))
                {
                    return false;
                }
                lines.Add(result.GetValue(comment) is { Length: > 0 } note ? $"{key} {note}" : key.ToString());
                return true;
            });
            Console.WriteLine(added ? $"added {key.Fingerprint} to {path}" : $"{key.Fingerprint} is already in {path}");
            return ExitCodes.Success;
        });
        var list = new Command("list", "List allowed client keys.");
        list.SetAction(result =>
        {
            string path = result.GetValue(file) ?? CliPaths.DefaultAuthorizedKeys;
            foreach (OssuaryPublicKey key in File.Exists(path) ? OssuaryNet.Trust.AuthorizedKeys.Load(path).Keys : [])
            {
                Console.WriteLine($"{key.Fingerprint}  {key}");
            }
            return ExitCodes.Success;
        });
        var which = new Argument<string>("KEY|FINGERPRINT") { Description = "The key to remove." };
        var remove = new Command("remove", "Stop allowing a client key.") { which };
        remove.SetAction(result =>
        {
            string path = result.GetValue(file) ?? CliPaths.DefaultAuthorizedKeys;
            string target = result.GetValue(which)!;
            bool removed = TrustFileEdit(path, lines =>
                lines.RemoveAll(line => OssuaryPublicKey.TryParse(line.Split(' ')[0], out var key) && key.Matches(target)) > 0);
            if (!removed)
            {
                throw new UsageException($"{target} is not in {path}.");
            }
            Console.WriteLine($"removed {target}");
            return ExitCodes.Success;
        });
        return new Command("authorized-keys", "Manage the client keys a server accepts (used with --authorized-keys).") { file, add, list, remove };
    }

    private static bool TrustFileEdit(string path, Func<List<string>, bool> edit)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : [];
        if (!edit(lines))
        {
            return false;
        }
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllLines(temporary, lines);
        File.Move(temporary, path, overwrite: true);
        return true;
    }

    private static string KnownHostsPath(ParseResult result) => result.GetValue(KnownHostsFile) ?? CliPaths.DefaultKnownHosts;

    private static void Describe(OssuaryStream stream, Output output)
    {
        output.Detail($"peer {stream.RemotePublicKey} fingerprint {stream.RemotePublicKey!.Fingerprint}");
        output.Detail($"protocol {stream.NoiseProtocolName}, application protocol {stream.ApplicationProtocol ?? "(none)"}");
        output.Detail($"handshake hash {Convert.ToHexStringLower(stream.HandshakeHash)}");
    }

    private static async Task<int> PipeStandardStreams(OssuaryStream stream, Output output, CancellationToken cancellationToken)
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
