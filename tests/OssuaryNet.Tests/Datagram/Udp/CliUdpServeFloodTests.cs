using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using Xunit;
using Xunit.Abstractions;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>
/// `udp-serve` under a one-way flood of IK Initiations from keys it accepts (--accept-any), sent from addresses that
/// never read a reply, as a spoofed source would: the process lives, holds no socket and no memory for it, and serves
/// a genuine client during the flood and after.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class CliUdpServeFloodTests(ITestOutputHelper log) : CliHomes
{
    private const int FloodKeys = 30, FloodSources = 64, InitiationsPerSecond = 800;
    private static readonly TimeSpan FloodFor = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task AOneWayIkFloodCostsUdpServeNoSocketNoMemoryAndNoGenuineClient()
    {
        var (echoPort, echo) = UdpRelay.Echo();
        using (echo)
        {
            var (_, identity, _) = await CliProcess.Run(Home, null, "id");
            var serverKey = OssuaryPublicKey.Parse(PublicKeyLine().Match(System.Text.Encoding.UTF8.GetString(identity)).Groups[1].Value);
            // A small descriptor limit: a flow per Initiation would exhaust it within a second of the flood.
            await using CliProcess serve = CliProcess.Start(Home, descriptorLimit: 256, "udp-serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echoPort}", "--accept-any", "--stats");
            int port = int.Parse(await serve.WaitForStderr(@"serving udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);
            await using CliProcess forward = CliProcess.Start(OtherHome, "udp-forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--tofu", "accept");
            int forwardPort = int.Parse(await forward.WaitForStderr(@"forwarding udp 127\.0\.0\.1:(\d+)"), CultureInfo.InvariantCulture);

            Assert.Equal(5, await Echoes(forwardPort, 5)); // served before
            await Task.Delay(1000);
            long rssBefore = ResidentBytes(serve.Id);
            int descriptorsBefore = Descriptors(serve.Id);

            Task<int> flood = Task.Run(() => Flood(new IPEndPoint(IPAddress.Loopback, port), serverKey));
            await Task.Delay(FloodFor / 2);
            Assert.False(serve.HasExited, $"udp-serve exited during the flood:\n{serve.Stderr}");
            int duringDescriptors = Descriptors(serve.Id);
            int echoedDuring = await Echoes(forwardPort, 5); // a new flow, so a new handshake, in the middle of the flood
            int sent = await flood;
            log.WriteLine($"flood: {sent} Initiations; descriptors {descriptorsBefore} before, {duringDescriptors} during");

            Assert.False(serve.HasExited, $"udp-serve exited during the flood:\n{serve.Stderr}");
            Assert.Equal(5, echoedDuring);
            Assert.InRange(duringDescriptors, 0, descriptorsBefore + 8);

            // Half-open handshakes last 15 s: once they are gone, the process is back where it started.
            await Task.Delay(TimeSpan.FromSeconds(17));
            Assert.Equal(5, await Echoes(forwardPort, 5)); // served after
            long rssAfter = ResidentBytes(serve.Id);
            log.WriteLine($"resident memory {rssBefore / 1024} KiB before, {rssAfter / 1024} KiB after");
            Assert.InRange(Descriptors(serve.Id), 0, descriptorsBefore + 8);
            Assert.InRange(rssAfter, 0, rssBefore * 11 / 10);
            Assert.True(sent >= InitiationsPerSecond * FloodFor.TotalSeconds * 0.8, $"only {sent} Initiations were sent");

            serve.Terminate();
            await serve.WaitForExit();
            Match accepted = Regex.Match(serve.Stderr, @"handshakes +([\d,]+) completed");
            Assert.True(accepted.Success, serve.Stderr);
            Assert.InRange(int.Parse(accepted.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), 1, 20); // the genuine client's flows only
        }
    }

    /// <summary>
    /// IK Initiations at <see cref="InitiationsPerSecond"/> for <see cref="FloodFor"/>, from <see cref="FloodKeys"/>
    /// keys in turn and from <see cref="FloodSources"/> loopback addresses that never read: returns how many went out.
    /// </summary>
    private static int Flood(IPEndPoint server, OssuaryPublicKey serverKey)
    {
        var clock = Stopwatch.StartNew();
        var keys = Enumerable.Range(0, FloodKeys).Select(_ => OssuaryKeyPair.Generate()).ToArray();
        var endpoints = keys.Select(key => new DatagramEndpoint(new DatagramOptions { Identity = key, ServiceLabel = "ossuary-tunnel/1" }, clock.Elapsed)).ToArray();
        var sockets = Enumerable.Range(1, FloodSources).Select(i =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.1.{i}"), 0));
            return socket;
        }).ToArray();
        SocketAddress target = server.Serialize();
        byte[] address = target.Buffer.Span[..target.Size].ToArray();
        byte[] packet = new byte[1500], destination = new byte[64];
        int sent = 0;
        try
        {
            while (clock.Elapsed < FloodFor)
            {
                int due = (int)(clock.Elapsed.TotalSeconds * InitiationsPerSecond);
                for (; sent < due; sent++)
                {
                    DatagramEndpoint endpoint = endpoints[sent % FloodKeys];
                    endpoint.Connect(address, serverKey, clock.Elapsed);
                    while (endpoint.TryPollTransmit(packet, destination, out int length, out _))
                    {
                        sockets[sent % FloodSources].SendTo(packet.AsSpan(0, length), SocketFlags.None, server);
                    }
                }
                Thread.Sleep(1);
            }
            return sent;
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
            foreach (DatagramEndpoint endpoint in endpoints)
            {
                endpoint.Dispose();
            }
            foreach (OssuaryKeyPair key in keys)
            {
                key.Dispose();
            }
        }
    }

    /// <summary>Sends <paramref name="count"/> datagrams through a new local flow and counts their echoes (each asked up to 20 times).</summary>
    private static async Task<int> Echoes(int forwardPort, int count)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var target = new IPEndPoint(IPAddress.Loopback, forwardPort);
        byte[] buffer = new byte[2048];
        int echoed = 0;
        for (int i = 0; i < count; i++)
        {
            byte[] payload = [.. "echo "u8, (byte)i];
            for (int attempt = 0; attempt < 20; attempt++)
            {
                await socket.SendToAsync(payload, SocketFlags.None, target);
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                try
                {
                    int length = await socket.ReceiveAsync(buffer, SocketFlags.None, wait.Token);
                    if (buffer.AsSpan(0, length).SequenceEqual(payload))
                    {
                        echoed++;
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
        return echoed;
    }

    private static long ResidentBytes(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static int Descriptors(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;

    [GeneratedRegex(@"public key +(\S+)")]
    private static partial Regex PublicKeyLine();
}
