using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>End-to-end tests of the `ossuary` tool, run as separate processes over loopback.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliTests : CliHomes
{
    private static string KeyPath(string home) => Path.Combine(home, ".config", "ossuary", "id");

    [Fact]
    public async Task DemoSucceedsInAFreshHome()
    {
        var (code, stdout, stderr) = await CliProcess.Run(Home, null, "demo", "--megabytes", "8");
        string text = Encoding.UTF8.GetString(stdout);
        Assert.True(code == 0, $"demo exited {code}:\n{text}\n{stderr}");
        Assert.Contains("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b", text);
        Assert.Contains("Noise_IKhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b", text);
        Assert.Contains("PeerKeyChanged", text);
        Assert.Contains("demo complete", text);
    }

    [Fact]
    public async Task KeygenIdAndKeyFilePermissions()
    {
        var (code, stdout, _) = await CliProcess.Run(Home, null, "keygen");
        Assert.Equal(0, code);
        string key = KeyPath(Home);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        string fingerprint = System.Text.RegularExpressions.Regex.Match(Encoding.UTF8.GetString(stdout), "fingerprint +(\\S+)").Groups[1].Value;

        var again = await CliProcess.Run(Home, null, "keygen");
        Assert.Equal(6, again.Code);
        Assert.Contains("--force", again.Stderr);

        var id = await CliProcess.Run(Home, null, "id");
        Assert.Equal(0, id.Code);
        Assert.Contains(fingerprint, Encoding.UTF8.GetString(id.Stdout));

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var refused = await CliProcess.Run(Home, null, "id");
        Assert.Equal(6, refused.Code);
        Assert.Contains("chmod 600", refused.Stderr);
        Assert.Single(refused.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task UsageErrorsAreOneLineWithCodeOne()
    {
        var (code, _, stderr) = await CliProcess.Run(Home, null, "connect", "no-port-here");
        Assert.Equal(1, code);
        Assert.Equal("ossuary: 'no-port-here' is not HOST:PORT (e.g. example.com:7000 or [::1]:7000).", stderr.Trim());
    }

    [Fact]
    public async Task NetcatModeCarriesBothDirectionsWithHalfClose()
    {
        byte[] fromServer = RandomNumberGenerator.GetBytes(300_000);
        byte[] fromClient = RandomNumberGenerator.GetBytes(500_000);
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        await using CliProcess connect = CliProcess.Start(OtherHome, "connect", $"127.0.0.1:{port}", "--tofu", "accept");
        // The server's stdin ends first; the client keeps sending until its own stdin ends.
        await listen.CloseInput(fromServer);
        await connect.CloseInput(fromClient);
        Assert.Equal(0, await connect.WaitForExit());
        Assert.Equal(0, await listen.WaitForExit());
        Assert.Equal(fromClient, listen.Stdout);
        Assert.Equal(fromServer, connect.Stdout);
        Assert.Contains($"127.0.0.1:{port}", File.ReadAllText(Path.Combine(OtherHome, ".config", "ossuary", "known_hosts")));
    }

    [Fact]
    public async Task ThePostQuantumHandshakeIsTheDefaultFallsBackOnFirstContactAndIsNeverStripped()
    {
        string knownHosts = Path.Combine(OtherHome, ".config", "ossuary", "known_hosts");
        // Both sides at the default (preferred): the hybrid handshake, recorded as such.
        await using (CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1"))
        {
            string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
            await listen.CloseInput("hi"u8.ToArray());
            var (code, stdout, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--tofu", "accept", "-v");
            Assert.True(code == 0, stderr);
            Assert.Contains("protocol Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b", stderr);
            Assert.Equal("hi"u8.ToArray(), stdout);
            Assert.Contains($"127.0.0.1:{port} ", File.ReadAllText(knownHosts));
            Assert.EndsWith(" pq", File.ReadAllText(knownHosts).Trim());
        }
        File.Delete(knownHosts);

        // A server with --pq off: first contact falls back to the classical handshake (nothing on record yet).
        await using (CliProcess classical = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1", "--pq", "off"))
        {
            string port = await classical.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
            await classical.CloseInput([]);
            var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--tofu", "accept", "-v");
            Assert.True(code == 0, stderr);
            Assert.Contains("protocol Noise_XX_25519_ChaChaPoly_BLAKE2b", stderr);
            Assert.DoesNotContain(" pq", File.ReadAllText(knownHosts));
        }

        // --pq required never falls back: the refusal is a protocol failure (exit 3).
        await using (CliProcess classical = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1", "--pq", "off"))
        {
            string port = await classical.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
            var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--tofu", "accept", "--pq", "required");
            Assert.Equal(3, code);
            Assert.Contains("UnsupportedPattern", stderr);
        }

        // The endpoint on record as hybrid: a classical server's refusal now looks like a stripping attack (exit 5).
        await using (CliProcess classical = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1", "--pq", "off"))
        {
            string port = await classical.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
            using (OssuaryNet.Identity.OssuaryKeyPair serverKey = OssuaryNet.Identity.OssuaryKeyPair.Load(KeyPath(Home)))
            {
                File.WriteAllText(knownHosts, $"127.0.0.1:{port} {serverKey.PublicKey} pq\n");
            }
            var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}");
            Assert.Equal(5, code);
            Assert.Contains("POST-QUANTUM PROTECTION WAS STRIPPED", stderr);
            Assert.Contains("stripping it", stderr);
        }

    }

    [Fact]
    public async Task ASecondServerOnAPortInUseFailsInsteadOfSharingIt()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        foreach (string[] verb in (string[][])[["listen", port, "--bind", "127.0.0.1"], ["serve", "--listen", $"127.0.0.1:{port}", "--to", "127.0.0.1:9", "--accept-any"],
                     ["receive", port, "--bind", "127.0.0.1", "--accept-any", "--out", OtherHome], ["forward", "--listen", $"127.0.0.1:{port}", "--to", "127.0.0.1:9"]])
        {
            var (code, _, stderr) = await CliProcess.Run(OtherHome, [], verb);
            Assert.True(code == 2, $"{verb[0]}: exit {code}: {stderr}");
            Assert.Contains("address already in use", stderr, StringComparison.OrdinalIgnoreCase);
            Assert.StartsWith("ossuary: ", stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last());
        }
        Assert.False(listen.HasExited);
    }

    [Fact]
    public async Task AChangedServerKeyIsRefusedWithTheSshStyleWarning()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        string knownHosts = Path.Combine(OtherHome, ".config", "ossuary", "known_hosts");
        Directory.CreateDirectory(Path.GetDirectoryName(knownHosts)!);
        File.WriteAllText(knownHosts, $"127.0.0.1:{port} {TestKeys.Other.PublicKey}\n");
        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}");
        Assert.Equal(5, code);
        Assert.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", stderr);
        Assert.Contains(TestKeys.Other.PublicKey.Fingerprint, stderr);
        Assert.Contains("ossuary known-hosts remove", stderr);
    }

    [Fact]
    public async Task TunnelInFrontOfAPlainEchoServerWithFiftyConcurrentClients()
    {
        using var echo = new PlainEchoServer();
        int echoPort = echo.Port;
        await using CliProcess serve = CliProcess.Start(Home, "serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echoPort}", "--accept-any");
        string servePort = await serve.WaitForStderr(@"serving 127\.0\.0\.1:(\d+)");
        await using CliProcess forward = CliProcess.Start(OtherHome, "forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{servePort}", "--tofu", "accept");
        string forwardPort = await forward.WaitForStderr(@"forwarding 127\.0\.0\.1:(\d+)");

        var clients = Enumerable.Range(0, 50).Select(async i =>
        {
            byte[] data = RandomNumberGenerator.GetBytes(10_000 + i * 1000);
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, int.Parse(forwardPort, CultureInfo.InvariantCulture));
            await using var stream = new NetworkStream(socket);
            await stream.WriteAsync(data);
            socket.Shutdown(SocketShutdown.Send);
            var back = new MemoryStream();
            await stream.CopyToAsync(back);
            Assert.Equal(data, back.ToArray());
        });
        await Task.WhenAll(clients).WaitAsync(Loopback.Guard);
    }

    [Fact]
    public async Task AHundredMiBFileArrivesVerified()
    {
        string source = Path.Combine(OtherHome, "payload.bin");
        await using (var file = File.Create(source))
        {
            byte[] chunk = new byte[1 << 20];
            var random = new Random(5);
            for (int i = 0; i < 100; i++)
            {
                random.NextBytes(chunk);
                await file.WriteAsync(chunk);
            }
        }
        string inbox = Path.Combine(Home, "inbox");
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        var send = await CliProcess.Run(OtherHome, null, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        Assert.True(send.Code == 0, send.Stderr);
        Assert.Equal(0, await receive.WaitForExit());
        Assert.Contains("verified", send.Stderr);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(source))), Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(inbox, "payload.bin")))));
        Assert.Equal(["payload.bin"], Directory.GetFiles(inbox).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AnInterruptedTransferLeavesNoFile()
    {
        string source = Path.Combine(OtherHome, "big.bin");
        await using (var file = File.Create(source))
        {
            file.SetLength(4L << 30); // sparse: cheap to create, long enough to interrupt
        }
        string inbox = Path.Combine(Home, "inbox");
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        await using CliProcess send = CliProcess.Start(OtherHome, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        await receive.WaitForStderr("(receiving big.bin)");
        while (!Directory.Exists(inbox) || Directory.GetFiles(inbox).Length == 0)
        {
            await Task.Delay(10);
        }
        send.Kill();
        int code = await receive.WaitForExit();
        Assert.Equal(3, code); // the stream ended without an authenticated close: Truncated
        Assert.Contains("Truncated", receive.Stderr);
        Assert.Empty(Directory.GetFiles(inbox));
    }
}
