using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>The `udp-forward` / `udp-serve` tunnel as separate processes, in front of a plain UDP echo service.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliUdpTunnelTests : CliHomes
{
    /// <summary>Sends each datagram and waits for its echo, asking again after <paramref name="patience"/> (datagrams may be lost).</summary>
    private static async Task<int> EchoedCount(int forwardPort, int datagrams, TimeSpan patience, int attempts, int seed)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var target = new IPEndPoint(IPAddress.Loopback, forwardPort);
        var random = new Random(seed);
        byte[] buffer = new byte[2048];
        int echoed = 0;
        for (int i = 0; i < datagrams; i++)
        {
            byte[] payload = new byte[16 + random.Next(0, 1000)];
            random.NextBytes(payload);
            for (int attempt = 0; attempt < attempts; attempt++)
            {
                await socket.SendToAsync(payload, SocketFlags.None, target);
                using var wait = new CancellationTokenSource(patience);
                try
                {
                    while (true)
                    {
                        int length = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                        if (buffer.AsSpan(0, length).SequenceEqual(payload))
                        {
                            echoed++;
                            goto next;
                        }
                        // a late echo of an earlier attempt: keep waiting for this one
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        next:;
        }
        return echoed;
    }

    private async Task<(CliProcess Serve, CliProcess Forward, int ForwardPort)> Tunnel(int servePortOrRelay, Func<int, int>? relayFor = null, params string[] serveExtra)
    {
        CliProcess serve = CliProcess.Start(Home, ["udp-serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{servePortOrRelay}", "--accept-any", .. serveExtra]);
        int servePort = int.Parse(await serve.WaitForStderr(@"serving udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);
        int to = relayFor?.Invoke(servePort) ?? servePort;
        CliProcess forward = CliProcess.Start(OtherHome, "udp-forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{to}", "--tofu", "accept");
        int forwardPort = int.Parse(await forward.WaitForStderr(@"forwarding udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);
        return (serve, forward, forwardPort);
    }

    [Fact]
    public async Task TwentyConcurrentFlowsReachAUdpEchoServiceAndComeBack()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        using (echo)
        {
            var (serve, forward, forwardPort) = await Tunnel(echoPort);
            await using (serve)
            await using (forward)
            {
                int[] echoed = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => EchoedCount(forwardPort, 25, TimeSpan.FromSeconds(1), 5, i)))
                    .WaitAsync(TimeSpan.FromSeconds(60));
                Assert.All(echoed, count => Assert.Equal(25, count));
            }
        }
    }

    /// <summary>Each datagram is asked up to 25 times, 0.7 s apart: its flow's handshake may need its own retransmissions first.</summary>
    [Fact]
    public async Task FlowsGetThroughAPathThatLosesAFifthOfThePackets()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        UdpRelay? relay = null;
        using (echo)
        {
            var (serve, forward, forwardPort) = await Tunnel(echoPort, servePort => (relay = new UdpRelay(new IPEndPoint(IPAddress.Loopback, servePort), 0.2, 7)).Port);
            using (relay)
            await using (serve)
            await using (forward)
            {
                int[] echoed = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => EchoedCount(forwardPort, 20, TimeSpan.FromMilliseconds(700), 25, 100 + i)))
                    .WaitAsync(TimeSpan.FromSeconds(120));
                Assert.All(echoed, count => Assert.Equal(20, count));
                Assert.True(relay!.Dropped > 10, $"the relay dropped only {relay.Dropped} packets");
            }
        }
    }

    [Fact]
    public async Task AChangedServerKeyIsRefusedWithTheSshStyleWarning()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        using (echo)
        {
            await using CliProcess serve = CliProcess.Start(Home, "udp-serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echoPort}", "--accept-any");
            string port = await serve.WaitForStderr(@"serving udp 127\.0\.0\.1:(\d+)");
            string knownHosts = Path.Combine(OtherHome, ".config", "ossuary", "known_hosts");
            Directory.CreateDirectory(Path.GetDirectoryName(knownHosts)!);
            File.WriteAllText(knownHosts, $"127.0.0.1:{port} {TestKeys.Other.PublicKey}\n");
            var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "udp-forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}");
            Assert.Equal(5, code);
            Assert.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", stderr);
            Assert.Contains(TestKeys.Other.PublicKey.Fingerprint, stderr);
            Assert.Contains("ossuary known-hosts remove", stderr);
        }
    }

    /// <summary>
    /// Clients that connect and close at once (as udp-forward's probe does) must not take a verbose udp-serve down: it
    /// once read a flow's details after the flow had closed, which threw outside any flow's handler.
    /// </summary>
    [Fact]
    public async Task ConnectionsClosedAsSoonAsMadeDoNotStopAVerboseServer()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        using (echo)
        {
            await using CliProcess serve = CliProcess.Start(Home, "udp-serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echoPort}", "--accept-any", "-v");
            int port = int.Parse(await serve.WaitForStderr(@"serving udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);
            var server = new IPEndPoint(IPAddress.Loopback, port);
            var options = new DatagramOptions { Identity = TestKeys.Client, ServiceLabel = "ossuary-tunnel/1", PostQuantum = OssuaryPostQuantum.Preferred, MaxDatagramSize = 1400 };
            await using (OssuaryUdpEndpoint client = OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0), options, Trust.PeerVerifier.AcceptAny))
            {
                try
                {
                    for (int i = 0; i < 30; i++)
                    {
                        OssuaryUdpConnection connection = await client.ConnectAsync(server).WaitAsync(TimeSpan.FromSeconds(20));
                        connection.Close();
                    }
                    await Task.Delay(500);
                }
                catch (TimeoutException)
                {
                    // A server that died answers nothing: the assertions below say why.
                }
            }
            Assert.False(serve.HasExited, $"udp-serve exited:\n{serve.Stderr}");
            Assert.DoesNotContain("unexpected error", serve.Stderr);
        }
    }

    /// <summary>
    /// A clean run drops nothing on either side: the start-up probe, the first flow's datagrams sent while its
    /// handshake runs and its close all arrive where a session waits for them.
    /// </summary>
    [Fact]
    public async Task ACleanRunDropsNoPacketOnEitherSide()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        using (echo)
        {
            CliProcess serve = CliProcess.Start(Home, "udp-serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echoPort}", "--accept-any", "--stats");
            int servePort = int.Parse(await serve.WaitForStderr(@"serving udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);
            CliProcess forward = CliProcess.Start(OtherHome, "udp-forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{servePort}", "--tofu", "accept", "--stats");
            int forwardPort = int.Parse(await forward.WaitForStderr(@"forwarding udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);
            await using (forward)
            await using (serve)
            {
                int[] echoed = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => EchoedCount(forwardPort, 10, TimeSpan.FromSeconds(2), 3, 40 + i)));
                Assert.All(echoed, count => Assert.Equal(10, count));
                await Task.Delay(500);
                forward.Terminate();
                Assert.Equal(130, await forward.WaitForExit());
                serve.Terminate();
                Assert.Equal(130, await serve.WaitForExit());
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(forward.Stderr, @"dropped +0\r?\n"), forward.Stderr);
                Assert.True(System.Text.RegularExpressions.Regex.IsMatch(serve.Stderr, @"dropped +0\r?\n"), serve.Stderr);
            }
        }
    }

    [Fact]
    public async Task StatisticsArePrintedOnExit()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        using (echo)
        {
            var (serve, forward, forwardPort) = await Tunnel(echoPort, null, "--stats");
            await using (forward)
            await using (serve)
            {
                Assert.Equal(3, await EchoedCount(forwardPort, 3, TimeSpan.FromSeconds(2), 3, 9));
                serve.Terminate();
                Assert.Equal(130, await serve.WaitForExit()); // interrupted, as the TCP verbs report it
                Assert.Contains("datagram statistics", serve.Stderr);
                Assert.Matches(@"handshakes +\d+ completed", serve.Stderr);
                Assert.Matches(@"early data +\d+ accepted, \d+ refused", serve.Stderr);
                Assert.Contains("dropped", serve.Stderr);
            }
        }
    }
}
