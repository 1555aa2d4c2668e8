using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using OssuaryNet.Identity;
using OssuaryNet.Tests.Datagram.Udp;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// `ossuary run FILE` as a separate process: TCP and UDP tunnels in both directions from one file, a reload on SIGHUP
/// that takes a changed authorized-keys file without dropping a live connection, tunnels removed and added by a
/// reload, one line per mistake, readiness through NOTIFY_SOCKET, and the Prometheus endpoint.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class CliRunTests : CliHomes
{
    /// <summary>A key file under <paramref name="home"/>, created for the test; returns the key.</summary>
    private static OssuaryPublicKey KeyIn(string home, string name)
    {
        using OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(Path.Combine(home, name));
        return key.PublicKey;
    }

    private static string Write(string home, string name, string text)
    {
        string path = Path.Combine(home, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<int> PortFrom(CliProcess process, string pattern) =>
        int.Parse(await process.WaitForStderr(pattern), CultureInfo.InvariantCulture);

    /// <summary>
    /// One `run` process whose entrance ("entrance", forward) leads to its own exit ("exit", serve, any client) in front
    /// of <paramref name="echoPort"/>: the smallest configuration that carries real traffic through a tunnel.
    /// </summary>
    private static string LoopConfig(OssuaryPublicKey key, int echoPort, string entrance = "entrance", string extra = "") => $"""
        key = "id"
        [tunnels.exit]
        mode = "serve"
        listen = "127.0.0.1:0"
        to = "127.0.0.1:{echoPort}"
        accept_any = true
        [tunnels.{entrance}]
        mode = "forward"
        listen = "127.0.0.1:0"
        to = "127.0.0.1:EXIT_PORT"
        peer = "{key}"
        {extra}
        """;

    /// <summary>Starts a <see cref="LoopConfig"/> run: the exit first, then (a reload later) its entrance pointed at the exit's port.</summary>
    private async Task<(CliProcess Run, string Config, int EntrancePort, int ExitPort)> StartLoop(int echoPort, string extra = "", IReadOnlyDictionary<string, string>? environment = null)
    {
        OssuaryPublicKey key = KeyIn(Home, "id");
        // The exit's port is the system's choice; the entrance needs it, so the exit runs alone first.
        string config = Write(Home, "tunnels.toml", $"""
            key = "id"
            [tunnels.exit]
            mode = "serve"
            listen = "127.0.0.1:0"
            to = "127.0.0.1:{echoPort}"
            accept_any = true
            {extra}
            """);
        CliProcess run = CliProcess.Start(Home, environment ?? new Dictionary<string, string>(), "run", config);
        int exitPort = await PortFrom(run, @"exit: serving 127\.0\.0\.1:(\d+)");
        await run.WaitForStderr("(running 1 tunnel)");
        File.WriteAllText(config, LoopConfig(key, echoPort, extra: extra).Replace("EXIT_PORT", exitPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        run.Hangup();
        int entrancePort = await PortFrom(run, @"entrance: forwarding 127\.0\.0\.1:(\d+)");
        await run.WaitForStderr("(reloaded .*: 1 kept, 0 restarted, 1 added, 0 removed)");
        return (run, config, entrancePort, exitPort);
    }

    /// <summary>A TCP connection through a tunnel entrance that stays open across round trips.</summary>
    private sealed class LiveConnection : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private NetworkStream? _stream;

        public async Task OpenAsync(int port)
        {
            await _socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Loopback.Guard);
            _stream = new NetworkStream(_socket);
        }

        /// <summary>Sends <paramref name="data"/> and reads its echo; null when the tunnel closed the connection first.</summary>
        public async Task<byte[]?> RoundTrip(byte[] data)
        {
            try
            {
                await _stream!.WriteAsync(data).AsTask().WaitAsync(Loopback.Guard);
                byte[] back = new byte[data.Length];
                int got = 0;
                while (got < back.Length)
                {
                    int read = await _stream.ReadAsync(back.AsMemory(got)).AsTask().WaitAsync(Loopback.Guard);
                    if (read == 0)
                    {
                        return null;
                    }
                    got += read;
                }
                return back;
            }
            catch (IOException)
            {
                return null; // reset: the tunnel refused to carry it
            }
        }

        public void Dispose()
        {
            _stream?.Dispose();
            _socket.Dispose();
        }
    }

    private static async Task<byte[]?> OneRoundTrip(int port, byte[] data)
    {
        using var connection = new LiveConnection();
        await connection.OpenAsync(port);
        return await connection.RoundTrip(data);
    }

    /// <summary>Sends a datagram through a UDP entrance until its echo comes back (datagrams and first handshakes may be lost).</summary>
    private static async Task<bool> UdpRoundTrip(int port, byte[] payload)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] buffer = new byte[2048];
        for (int attempt = 0; attempt < 20; attempt++)
        {
            await socket.SendToAsync(payload, SocketFlags.None, new IPEndPoint(IPAddress.Loopback, port));
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                while (true)
                {
                    int length = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                    if (buffer.AsSpan(0, length).SequenceEqual(payload))
                    {
                        return true;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        return false;
    }

    [Fact]
    public async Task OneFileRunsTcpAndUdpTunnelsInBothDirections()
    {
        using var echo = new PlainEchoServer();
        var (udpEchoPort, udpEcho) = UdpRelay.Echo();
        using (udpEcho)
        {
            OssuaryPublicKey serverKey = KeyIn(Home, "server.key");
            OssuaryPublicKey clientKey = KeyIn(OtherHome, "client.key");
            Write(Home, "authorized_keys", $"{clientKey} the client\n");
            string serverConfig = Write(Home, "server.toml", $"""
                # the exits: encrypted in, plaintext out to the local services
                key = "server.key"

                [tunnels.db]
                mode = "serve"
                listen = "127.0.0.1:0"
                to = "127.0.0.1:{echo.Port}"
                authorized_keys = "authorized_keys"

                [tunnels.dns]
                mode = "udp-serve"
                listen = "127.0.0.1:0"
                to = "127.0.0.1:{udpEchoPort}"
                authorized_keys = "authorized_keys"
                """);
            await using CliProcess server = CliProcess.Start(Home, "run", serverConfig);
            int dbPort = await PortFrom(server, @"db: serving 127\.0\.0\.1:(\d+)");
            int dnsPort = await PortFrom(server, @"dns: serving udp 127\.0\.0\.1:(\d+)");
            await server.WaitForStderr("(running 2 tunnels)");

            string clientConfig = Write(OtherHome, "client.toml", $"""
                # the entrances: plaintext in, encrypted out; the server pinned by key (IK) and by fingerprint (XX)
                key = "client.key"
                known_hosts = "known_hosts"

                [tunnels.db]
                mode = "forward"
                listen = "127.0.0.1:0"
                to = "127.0.0.1:{dbPort}"
                peer = "{serverKey}"

                [tunnels.dns]
                mode = "udp-forward"
                listen = "127.0.0.1:0"
                to = "127.0.0.1:{dnsPort}"
                peer = "{serverKey.Fingerprint}"
                """);
            await using CliProcess client = CliProcess.Start(OtherHome, "run", clientConfig);
            int tcpEntrance = await PortFrom(client, @"db: forwarding 127\.0\.0\.1:(\d+)");
            int udpEntrance = await PortFrom(client, @"dns: forwarding udp 127\.0\.0\.1:(\d+)");
            await client.WaitForStderr("(running 2 tunnels)");

            byte[][] sent = Enumerable.Range(0, 8).Select(i => RandomNumberGenerator.GetBytes(50_000 + i * 1000)).ToArray();
            byte[]?[] echoed = await Task.WhenAll(sent.Select(data => OneRoundTrip(tcpEntrance, data)));
            Assert.All(Enumerable.Range(0, sent.Length), i => Assert.Equal(sent[i], echoed[i]));
            bool[] datagrams = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => UdpRoundTrip(udpEntrance, RandomNumberGenerator.GetBytes(100 + i * 200))));
            Assert.All(datagrams, Assert.True);

            Assert.False(server.HasExited, server.Stderr);
            Assert.False(client.HasExited, client.Stderr);
            Assert.DoesNotContain("ossuary:", server.Stderr + client.Stderr); // no error line on either side
        }
    }

    [Fact]
    public async Task SighupTakesAChangedAuthorizedKeysFileForNewHandshakesWhileALiveConnectionGoesOn()
    {
        using var echo = new PlainEchoServer();
        OssuaryPublicKey serverKey = KeyIn(Home, "server.key");
        OssuaryPublicKey first = KeyIn(OtherHome, "first.key");
        OssuaryPublicKey second = KeyIn(OtherHome, "second.key");
        string authorizedKeys = Write(Home, "authorized_keys", $"{first} first\n");
        string config = Write(Home, "server.toml", $"""
            key = "server.key"
            [tunnels.db]
            mode = "serve"
            listen = "127.0.0.1:0"
            to = "127.0.0.1:{echo.Port}"
            authorized_keys = "authorized_keys"
            """);
        await using CliProcess server = CliProcess.Start(Home, "run", "-v", config);
        int port = await PortFrom(server, @"db: serving 127\.0\.0\.1:(\d+)");
        await server.WaitForStderr("(running 1 tunnel)");
        // Two tunnel entrances, one with each client key.
        await using CliProcess viaFirst = CliProcess.Start(OtherHome, "forward", "--key", Path.Combine(OtherHome, "first.key"),
            "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--peer", serverKey.ToString());
        int firstEntrance = await PortFrom(viaFirst, @"forwarding 127\.0\.0\.1:(\d+)");
        await using CliProcess viaSecond = CliProcess.Start(OtherHome, "forward", "--key", Path.Combine(OtherHome, "second.key"),
            "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--peer", serverKey.ToString());
        int secondEntrance = await PortFrom(viaSecond, @"forwarding 127\.0\.0\.1:(\d+)");

        using var live = new LiveConnection();
        await live.OpenAsync(firstEntrance);
        byte[] before = RandomNumberGenerator.GetBytes(20_000);
        Assert.Equal(before, await live.RoundTrip(before));
        Assert.Null(await OneRoundTrip(secondEntrance, [1, 2, 3])); // not authorized yet

        File.WriteAllText(authorizedKeys, $"{second} second\n"); // the first key removed, the second added
        server.Hangup();
        await server.WaitForStderr("(reloaded .*: 1 kept, 0 restarted, 0 added, 0 removed)");

        byte[] after = RandomNumberGenerator.GetBytes(20_000);
        Assert.Equal(after, await live.RoundTrip(after)); // the live connection, verified under the old file, goes on
        Assert.Null(await OneRoundTrip(firstEntrance, [4, 5, 6])); // its key is refused at the next handshake
        await server.WaitForStderr($"(refused client .* \\(fingerprint {Regex.Escape(first.Fingerprint)}\\): its key is not in .*authorized_keys)");
        byte[] fresh = RandomNumberGenerator.GetBytes(1000);
        Assert.Equal(fresh, await OneRoundTrip(secondEntrance, fresh)); // the added key is accepted
        Assert.Equal(after, await live.RoundTrip(after));
        Assert.False(server.HasExited, server.Stderr);
    }

    [Fact]
    public async Task AReloadDoesNotLetAClientThatSpokeTheHybridHandshakeFallBackToAClassicalOne()
    {
        using var echo = new PlainEchoServer();
        OssuaryPublicKey serverKey = KeyIn(Home, "server.key");
        OssuaryPublicKey client = KeyIn(OtherHome, "client.key");
        Write(Home, "authorized_keys", $"{client} client\n");
        string config = Write(Home, "server.toml", $"""
            key = "server.key"
            [tunnels.db]
            mode = "serve"
            listen = "127.0.0.1:0"
            to = "127.0.0.1:{echo.Port}"
            authorized_keys = "authorized_keys"
            """);
        await using CliProcess server = CliProcess.Start(Home, "run", "-v", config);
        int port = await PortFrom(server, @"db: serving 127\.0\.0\.1:(\d+)");
        string[] entrance(string pq) => ["forward", "--key", Path.Combine(OtherHome, "client.key"), "--pq", pq,
            "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--peer", serverKey.ToString()];
        await using CliProcess hybrid = CliProcess.Start(OtherHome, entrance("required"));
        int hybridPort = await PortFrom(hybrid, @"forwarding 127\.0\.0\.1:(\d+)");
        await using CliProcess classical = CliProcess.Start(OtherHome, entrance("off"));
        int classicalPort = await PortFrom(classical, @"forwarding 127\.0\.0\.1:(\d+)");

        byte[] data = RandomNumberGenerator.GetBytes(1000);
        Assert.Equal(data, await OneRoundTrip(hybridPort, data));
        await server.WaitForStderr("(db: .* -> 127.0.0.1:)"); // carried: the client has spoken IKhfs

        server.Hangup(); // the same file, loaded again
        await server.WaitForStderr("(reloaded .*: 1 kept)");
        Assert.Null(await OneRoundTrip(classicalPort, data));
        await server.WaitForStderr($"(refused client .* \\(fingerprint {Regex.Escape(client.Fingerprint)}\\): it used a classical handshake)");
        Assert.Equal(data, await OneRoundTrip(hybridPort, data));
    }

    [Fact]
    public async Task SighupStopsARemovedTunnelAndStartsAnAddedOneWhileItsLiveConnectionGoesOn()
    {
        using var echo = new PlainEchoServer();
        var (run, config, entrancePort, exitPort) = await StartLoop(echo.Port);
        await using (run)
        {
            using var live = new LiveConnection();
            await live.OpenAsync(entrancePort);
            byte[] data = RandomNumberGenerator.GetBytes(10_000);
            Assert.Equal(data, await live.RoundTrip(data));

            OssuaryPublicKey key = KeyIn(Home, "id");
            File.WriteAllText(config, LoopConfig(key, echo.Port, entrance: "other").Replace("EXIT_PORT", exitPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
            run.Hangup();
            int otherPort = await PortFrom(run, @"other: forwarding 127\.0\.0\.1:(\d+)");
            await run.WaitForStderr("(entrance: removed from the configuration: no longer accepting; its live connections go on)");
            await run.WaitForStderr("(reloaded .*: 1 kept, 0 restarted, 1 added, 1 removed; 2 running)");

            var refused = await Assert.ThrowsAsync<SocketException>(() => OneRoundTrip(entrancePort, [1]));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
            Assert.Equal(data, await OneRoundTrip(otherPort, data));
            Assert.Equal(data, await live.RoundTrip(data));
        }
    }

    [Fact]
    public async Task AChangedTunnelRestartsAndAServerTunnelWhosePolicyAloneChangedIsKept()
    {
        using var echo = new PlainEchoServer();
        var (run, config, entrancePort, _) = await StartLoop(echo.Port);
        await using (run)
        {
            using var live = new LiveConnection();
            await live.OpenAsync(entrancePort);
            byte[] data = RandomNumberGenerator.GetBytes(10_000);
            Assert.Equal(data, await live.RoundTrip(data));

            OssuaryPublicKey key = KeyIn(Home, "id");
            Write(Home, "authorized_keys", $"{key} the entrance itself\n");
            File.WriteAllText(config, File.ReadAllText(config)
                .Replace("accept_any = true", "authorized_keys = \"authorized_keys\"", StringComparison.Ordinal) // the exit: its client policy only
                .Replace("mode = \"forward\"", "mode = \"forward\"\ntimeout = 10", StringComparison.Ordinal));   // the entrance: another setting
            run.Hangup();
            await run.WaitForStderr("(entrance: changed in the configuration: restarting \\(its live connections go on\\))");
            await run.WaitForStderr("(reloaded .*: 1 kept, 1 restarted, 0 added, 0 removed; 2 running)");
            int newPort = int.Parse(Regex.Matches(run.Stderr, @"entrance: forwarding 127\.0\.0\.1:(\d+)")[^1].Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.Single(Regex.Matches(run.Stderr, @"exit: serving")); // the exit kept its socket

            Assert.Equal(data, await live.RoundTrip(data));
            Assert.Equal(data, await OneRoundTrip(newPort, data)); // through the restarted entrance, to the exit's new policy
        }
    }

    [Fact]
    public async Task AReloadWithAMistakeChangesNothing()
    {
        using var echo = new PlainEchoServer();
        var (run, config, entrancePort, _) = await StartLoop(echo.Port);
        await using (run)
        {
            string good = File.ReadAllText(config);
            File.WriteAllText(config, good.Replace("mode = \"forward\"", "mode = \"forward\"\nlisten_twice = true", StringComparison.Ordinal));
            run.Hangup();
            await run.WaitForStderr(@"(ossuary: .*tunnels\.toml:\d+: tunnels\.entrance\.listen_twice: unknown key for mode forward)");
            await run.WaitForStderr("(ossuary: reload refused: 1 mistake; the running tunnels are unchanged)");
            byte[] data = RandomNumberGenerator.GetBytes(5000);
            Assert.Equal(data, await OneRoundTrip(entrancePort, data));
        }
    }

    [Fact]
    public async Task EveryMistakeIsOneLineNamingTheFileTheLineAndTheKey()
    {
        string config = Write(Home, "bad.toml", """
            pq = "maybe"
            colour = "blue"

            [tunnels.db]
            mode = "serve"
            listen = "0.0.0.0:99999"
            to = "127.0.0.1:5432"
            idle_timeout = -1

            [tunnels.web]
            mode = "forwrd"
            listen = "127.0.0.1:8080"
            to = "127.0.0.1:80"

            [tunnels.dns]
            mode = "udp-forward"
            listen = "127.0.0.1:5353"
            to = "server.example:7000"
            tofu = "ask"
            timeout = 5
            """);
        var (code, stdout, stderr) = await CliProcess.Run(Home, [], "run", config);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] expected =
        [
            $"ossuary: {config}:1: pq: 'maybe' is not a post-quantum policy",
            $"ossuary: {config}:2: colour: unknown key",
            $"ossuary: {config}:4: tunnels.db: serves nobody: give authorized_keys",
            $"ossuary: {config}:6: tunnels.db.listen: '0.0.0.0:99999' is not HOST:PORT",
            $"ossuary: {config}:8: tunnels.db.idle_timeout: must be a number of seconds, 0 (never) or more",
            $"ossuary: {config}:11: tunnels.web.mode: 'forwrd' is not a mode",
            $"ossuary: {config}:19: tunnels.dns.tofu: 'ask' needs a terminal",
            $"ossuary: {config}:20: tunnels.dns.timeout: unknown key for mode udp-forward",
        ];
        Assert.Equal(expected.Length, lines.Length);
        Assert.All(expected.Zip(lines), pair => Assert.StartsWith(pair.First, pair.Second, StringComparison.Ordinal));

        // A syntax error is one line with its position; nothing is started.
        string broken = Write(Home, "broken.toml", "key = \n");
        var syntax = await CliProcess.Run(Home, [], "run", broken);
        Assert.Equal(1, syntax.Code);
        Assert.Matches($@"^ossuary: {Regex.Escape(broken)}:1: .*\(column 7\)\n$", syntax.Stderr);
    }

    [Fact]
    public async Task TheExampleConfigurationHasNoMistakes()
    {
        string example = File.ReadAllText(Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "examples", "systemd", "tunnels.toml"));
        string authorizedKeys = Write(Home, "authorized_keys", $"{TestKeys.Client.PublicKey} a client\n");
        Assert.Contains("/etc/ossuary/authorized_keys", example);
        string config = Write(Home, "tunnels.toml", example.Replace("/etc/ossuary/authorized_keys", authorizedKeys, StringComparison.Ordinal));
        var (code, _, stderr) = await CliProcess.Run(Home, [], "run", "--check", config);
        Assert.True(code == 0, stderr);
        Assert.EndsWith($"{config}: 4 tunnels, no mistakes\n", stderr, StringComparison.Ordinal); // after the default identity's creation
    }

    [Fact]
    public async Task AMissingTrustFileIsExitCode6NamingTheKeyAndTheFile()
    {
        KeyIn(Home, "id");
        string config = Write(Home, "tunnels.toml", """
            key = "id"
            [tunnels.db]
            mode = "serve"
            listen = "127.0.0.1:0"
            to = "127.0.0.1:9"
            authorized_keys = "no_such_file"
            """);
        var (code, _, stderr) = await CliProcess.Run(Home, [], "run", config);
        Assert.Equal(6, code);
        Assert.Equal($"ossuary: {config}:6: tunnels.db.authorized_keys: '{Path.Combine(Home, "no_such_file")}' does not exist\n", stderr);

        File.WriteAllText(Path.Combine(Home, "no_such_file"), "not a key\n");
        var check = await CliProcess.Run(Home, [], "run", "--check", config);
        Assert.Equal(6, check.Code);
        Assert.Contains("tunnels.db.authorized_keys: ", check.Stderr);
        Assert.Contains("no_such_file:1: not a public key", check.Stderr);

        File.WriteAllText(Path.Combine(Home, "no_such_file"), $"{TestKeys.Client.PublicKey}\n");
        check = await CliProcess.Run(Home, [], "run", "--check", config);
        Assert.Equal(0, check.Code);
        Assert.Equal($"{config}: 1 tunnel, no mistakes\n", check.Stderr);
    }

    [Fact]
    public async Task AnAddressInUseIsExitCode2InOneLineNamingTheTunnelAndNothingStaysUp()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen(1);
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        KeyIn(Home, "id");
        string config = Write(Home, "tunnels.toml", $"""
            key = "id"
            [tunnels.first]
            mode = "udp-serve"
            listen = "127.0.0.1:0"
            to = "127.0.0.1:9"
            accept_any = true
            [tunnels.db]
            mode = "serve"
            listen = "127.0.0.1:{port}"
            to = "127.0.0.1:9"
            accept_any = true
            """);
        var (code, _, stderr) = await CliProcess.Run(Home, [], "run", config);
        Assert.Equal(2, code);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"ossuary: tunnels.db (serve 127.0.0.1:{port} to 127.0.0.1:9): Cannot listen on 127.0.0.1:{port}: address already in use (another program listens on that port: choose another port, or stop it).", lines[^1]);
        Assert.Single(lines, line => line.StartsWith("ossuary:", StringComparison.Ordinal));
        Assert.Contains("first: serving udp", stderr); // it had started, and was stopped with the rest
    }

    [Fact]
    public async Task AUdpEntranceOnAPortInUseSaysSoBeforeLookingUpItsServer()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        KeyIn(Home, "id");
        string config = Write(Home, "tunnels.toml", $"""
            key = "id"
            [tunnels.dns]
            mode = "udp-forward"
            listen = "127.0.0.1:{port}"
            to = "no.such.host.invalid:7000"
            """);
        var (code, _, stderr) = await CliProcess.Run(Home, [], "run", config);
        Assert.Equal(2, code);
        Assert.Equal($"ossuary: tunnels.dns (udp-forward 127.0.0.1:{port} to no.such.host.invalid:7000): Cannot listen on 127.0.0.1:{port}: address already in use (another program listens on that port: choose another port, or stop it).\n", stderr);
    }

    [Fact]
    public async Task ReadinessGoesToNotifySocketOnceEveryTunnelListensAndLinesCarryJournalPriorities()
    {
        using var echo = new PlainEchoServer();
        string socketPath = Path.Combine(Home, "notify");
        using var notifications = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notifications.Bind(new UnixDomainSocketEndPoint(socketPath));
        KeyIn(Home, "id");
        string config = Write(Home, "tunnels.toml", $"""
            key = "id"
            [tunnels.db]
            mode = "serve"
            listen = "127.0.0.1:0"
            to = "127.0.0.1:{echo.Port}"
            accept_any = true
            """);
        var environment = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socketPath, ["JOURNAL_STREAM"] = "8:12345" };
        await using CliProcess run = CliProcess.Start(Home, environment, "run", config);

        async Task<string> Next()
        {
            byte[] buffer = new byte[4096];
            int length = await notifications.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(Loopback.Guard);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
        }

        Assert.Equal("READY=1", await Next());
        // Ready means listening: the port was printed before, and it takes a connection now.
        int port = await PortFrom(run, @"(?m)^<5>db: serving 127\.0\.0\.1:(\d+) to");
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await probe.ConnectAsync(IPAddress.Loopback, port);
        }

        run.Hangup();
        Assert.Matches(@"^RELOADING=1\nMONOTONIC_USEC=\d+$", await Next());
        Assert.Equal("READY=1", await Next());

        run.Terminate();
        Assert.Equal("STOPPING=1", await Next());
        Assert.Equal(0, await run.WaitForExit()); // a service stopped by its manager ends normally
        string[] lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.Matches(@"^<[0-7]>", line)); // journald files each line under its priority
    }

    [Fact]
    public async Task MetricsAreScrapedDuringATransferAndTheByteCountersMove()
    {
        using var echo = new PlainEchoServer();
        int metricsPort;
        using (var free = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            free.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            metricsPort = ((IPEndPoint)free.LocalEndPoint!).Port;
        }
        var (run, _, entrancePort, _) = await StartLoop(echo.Port, $"""
            [metrics]
            enabled = true
            listen = "127.0.0.1:{metricsPort}"
            """);
        await using (run)
        {
            await run.WaitForStderr($@"(metrics on http://127\.0\.0\.1:{metricsPort}/metrics)");
            using var http = new HttpClient { Timeout = Loopback.Guard };
            string url = $"http://127.0.0.1:{metricsPort}/metrics";

            static double Total(string scrape, string metric) => Regex.Matches(scrape, $@"^{metric}(?:\{{[^}}]*\}})? (\S+)$", RegexOptions.Multiline)
                .Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

            double sentBefore = Total(await http.GetStringAsync(url), "ossuary_bytes_sent_bytes_total");
            using var live = new LiveConnection();
            await live.OpenAsync(entrancePort);
            byte[] half = RandomNumberGenerator.GetBytes(256 * 1024);
            Assert.Equal(half, await live.RoundTrip(half));

            // Mid-transfer: the connection is open, and both ends of the tunnel (one process) have counted its records.
            string during = await http.GetStringAsync(url);
            Assert.Contains("# TYPE ossuary_bytes_sent_bytes_total counter", during);
            Assert.Contains("ossuary_handshakes_completed_total{", during);
            Assert.True(Total(during, "ossuary_bytes_sent_bytes_total") >= sentBefore + 2 * half.Length, during);
            Assert.True(Total(during, "ossuary_connections_active") >= 2, during);

            Assert.Equal(half, await live.RoundTrip(half));
            Assert.True(Total(await http.GetStringAsync(url), "ossuary_bytes_sent_bytes_total") >= sentBefore + 4 * half.Length);
        }
    }
}
