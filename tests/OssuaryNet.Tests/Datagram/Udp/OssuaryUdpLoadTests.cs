using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>Datagram mode over real UDP under numbers and time: many connections on one socket, a restart, a soak.</summary>
public sealed class OssuaryUdpLoadTests
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    [Fact]
    public async Task AThousandConnectionsShareOneServerSocket()
    {
        const int Clients = 20, PerClient = 50;
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate();
        await using OssuaryUdpEndpoint server = OssuaryUdpEndpoint.Bind(AnyLoopback, new DatagramOptions { Identity = serverKey, AcceptConnections = true }, PeerVerifier.AcceptAny);
        var echo = Task.Run(async () =>
        {
            var serving = new List<Task>();
            for (int i = 0; i < Clients * PerClient; i++)
            {
                OssuaryUdpConnection accepted = await server.AcceptAsync();
                serving.Add(Task.Run(async () =>
                {
                    byte[] buffer = new byte[2048];
                    DatagramReceiveResult got = await accepted.ReceiveAsync(buffer);
                    await accepted.SendAsync(buffer.AsMemory(0, got.Length));
                }));
            }
            await Task.WhenAll(serving);
        });

        var keys = Enumerable.Range(0, Clients).Select(_ => OssuaryKeyPair.Generate()).ToArray();
        var clients = keys.Select(k => OssuaryUdpEndpoint.Bind(AnyLoopback, new DatagramOptions { Identity = k })).ToArray();
        try
        {
            var exchanges = new List<Task<bool>>();
            for (int c = 0; c < Clients; c++)
            {
                for (int n = 0; n < PerClient; n++)
                {
                    OssuaryUdpEndpoint client = clients[c];
                    int id = c * PerClient + n;
                    exchanges.Add(Task.Run(async () =>
                    {
                        // XX by fingerprint: no rate limit per key, so fifty handshakes of one key run at once.
                        OssuaryUdpConnection connection = await client.ConnectAsync(server.LocalEndPoint, serverKey.PublicKey.Fingerprint);
                        byte[] payload = BitConverter.GetBytes(id);
                        byte[] buffer = new byte[64];
                        for (int attempt = 0; attempt < 20; attempt++) // datagrams are unreliable: ask again until the echo comes
                        {
                            await connection.SendAsync(payload);
                            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                            try
                            {
                                DatagramReceiveResult got = await connection.ReceiveAsync(buffer, wait.Token);
                                return got.Length == 4 && BitConverter.ToInt32(buffer) == id;
                            }
                            catch (OperationCanceledException)
                            {
                            }
                        }
                        return false;
                    }));
                }
            }
            bool[] results = await Task.WhenAll(exchanges).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.All(results, Assert.True);
            await echo.WaitAsync(TimeSpan.FromSeconds(30));
            DatagramStatistics statistics = server.Statistics;
            Assert.Equal(Clients * PerClient, statistics.Connections);
            Assert.Equal(Clients * PerClient, statistics.HandshakesCompleted);
        }
        finally
        {
            foreach (OssuaryUdpEndpoint client in clients)
            {
                await client.DisposeAsync();
            }
            foreach (OssuaryKeyPair key in keys)
            {
                key.Dispose();
            }
        }
    }

    [Fact]
    public async Task AClientNoticesAServerRestartAndReconnectsOnItsOwn()
    {
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();
        var options = new DatagramOptions { Identity = serverKey, AcceptConnections = true };
        OssuaryUdpEndpoint first = OssuaryUdpEndpoint.Bind(AnyLoopback, options, PeerVerifier.AcceptAny);
        IPEndPoint at = first.LocalEndPoint;
        await using OssuaryUdpEndpoint client = OssuaryUdpEndpoint.Bind(AnyLoopback, new DatagramOptions { Identity = clientKey });
        OssuaryUdpConnection connection = await client.ConnectAsync(at, serverKey.PublicKey).WaitAsync(TimeSpan.FromSeconds(10));
        await connection.SendAsync("one"u8.ToArray());
        OssuaryUdpConnection before = await first.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, (await before.ReceiveAsync(new byte[16])).Length);
        await first.DisposeAsync(); // the server goes away without a word, and comes back knowing nothing

        await using OssuaryUdpEndpoint second = OssuaryUdpEndpoint.Bind(at, new DatagramOptions { Identity = serverKey, AcceptConnections = true }, PeerVerifier.AcceptAny);
        Task<OssuaryUdpConnection> accepting = second.AcceptAsync().AsTask();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!accepting.IsCompleted && DateTime.UtcNow < deadline)
        {
            await connection.SendAsync("are you there"u8.ToArray()); // unanswered: after 15 s the client handshakes again
            await Task.Delay(250);
        }
        OssuaryUdpConnection after = await accepting.WaitAsync(TimeSpan.FromSeconds(1));
        await connection.SendAsync("two"u8.ToArray());
        byte[] buffer = new byte[64];
        DatagramReceiveResult got;
        do
        {
            got = await after.ReceiveAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        while (got.Length != 3);
        Assert.Equal("two"u8.ToArray(), buffer[..3]);
        Assert.True(second.Statistics.Dropped(DatagramDropReason.UnknownSession) > 0); // what it got before the new handshake
        Assert.Equal(1, client.Statistics.Rekeys);
        Assert.False(connection.IsClosed); // the application's connection carried on
    }

    [Fact]
    public async Task AThirtySecondSoakDeliversEveryDatagramOnceAndIntact()
    {
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();
        await using OssuaryUdpEndpoint server = OssuaryUdpEndpoint.Bind(AnyLoopback, new DatagramOptions { Identity = serverKey, AcceptConnections = true }, PeerVerifier.AcceptAny);
        await using OssuaryUdpEndpoint client = OssuaryUdpEndpoint.Bind(AnyLoopback, new DatagramOptions { Identity = clientKey });
        OssuaryUdpConnection connection = await client.ConnectAsync(server.LocalEndPoint, serverKey.PublicKey).WaitAsync(TimeSpan.FromSeconds(10));
        await connection.SendAsync(new byte[4]); // makes the server's connection
        OssuaryUdpConnection accepted = await server.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        var sent = new Dictionary<int, byte[]>();
        var received = new Dictionary<int, byte[]>();
        int duplicates = 0;
        var reader = Task.Run(async () =>
        {
            byte[] buffer = new byte[2048];
            while (true)
            {
                DatagramReceiveResult got = await accepted.ReceiveAsync(buffer);
                if (got.IsClosed)
                {
                    return;
                }
                if (got.Length < 8)
                {
                    continue;
                }
                int sequence = BinaryPrimitives.ReadInt32LittleEndian(buffer);
                lock (received)
                {
                    duplicates += received.TryAdd(sequence, SHA256.HashData(buffer.AsSpan(0, got.Length))) ? 0 : 1;
                }
            }
        });
        var random = new Random(20261129);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int next = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (int burst = 0; burst < 10; burst++)
            {
                byte[] payload = new byte[8 + random.Next(0, 1100)];
                random.NextBytes(payload);
                BinaryPrimitives.WriteInt32LittleEndian(payload, next);
                sent[next++] = SHA256.HashData(payload);
                await connection.SendAsync(payload);
            }
            await Task.Delay(10); // about 1,000 datagrams a second
        }
        await Task.Delay(500);
        connection.Close();
        await reader.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, duplicates);
        lock (received)
        {
            Assert.All(received, pair => Assert.Equal(sent[pair.Key], pair.Value)); // intact
            Assert.True(received.Count >= next * 0.999, $"{received.Count} of {next} delivered");
        }
        Assert.True(next > 10_000, $"only {next} sent");
        Assert.Equal(0, server.Statistics.Dropped(DatagramDropReason.AuthenticationFailed));
    }
}
