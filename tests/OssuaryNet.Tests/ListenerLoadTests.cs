using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit;
using Xunit.Abstractions;

namespace OssuaryNet.Tests;

/// <summary>
/// The listener under attack over real loopback sockets: slow and silent clients by the thousand, floods of garbage,
/// resets and half handshakes, churn. Traffic stays on 127.0.0.0/8; every loop is bounded in count and time.
/// These run alone (they measure latency and count the process's descriptors).
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class ListenerLoadTests(ITestOutputHelper output)
{
    public enum Attack
    {
        Silent,
        OneBytePerSecond,
        AnnouncesAHugeFrame,
    }

    private static readonly TimeSpan LegitDeadline = TimeSpan.FromSeconds(2);

    /// <summary>The goal for a legitimate client under attack: at least 95 % of its handshakes within this.</summary>
    private static readonly TimeSpan LegitGoal = TimeSpan.FromMilliseconds(500);

    /// <summary>Attackers come back as soon as the server drops them.</summary>
    private static readonly TimeSpan ReconnectDelay = TimeSpan.Zero;

    /// <summary>
    /// Keeps <paramref name="connections"/> hostile connections open from <paramref name="sources"/>, reconnecting
    /// as soon as the server drops one, until <paramref name="stop"/>.
    /// </summary>
    private static List<Task> StartAttack(IPEndPoint server, Attack attack, int connections, List<IPAddress> sources, CancellationToken stop) =>
        Enumerable.Range(0, connections).Select(i => Task.Run(async () =>
        {
            byte[] hello = new byte[42];
            hello[0] = 0xFF;
            hello[1] = 0xFF;
            while (!stop.IsCancellationRequested)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(sources[i % sources.Count], 0));
                    await socket.ConnectAsync(server, stop);
                    switch (attack)
                    {
                        case Attack.AnnouncesAHugeFrame:
                            await socket.SendAsync(hello.AsMemory(0, 2), stop); // a 65,535-byte frame that never comes
                            break;
                        case Attack.OneBytePerSecond:
                            for (int b = 0; b < hello.Length && !stop.IsCancellationRequested; b++)
                            {
                                await socket.SendAsync(hello.AsMemory(b, 1), stop);
                                await Task.Delay(1000, stop);
                                if (socket.Poll(0, SelectMode.SelectRead))
                                {
                                    break; // the server closed it
                                }
                            }
                            break;
                    }
                    // Wait until the server drops us (end of stream or reset), then come back.
                    await socket.ReceiveAsync(new byte[16], stop);
                    await Task.Delay(ReconnectDelay, stop);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException)
                {
                    if (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(ReconnectDelay, CancellationToken.None);
                    }
                }
            }
        })).ToList();

    /// <summary>Makes <paramref name="attempts"/> handshakes from 127.0.0.1, one every 100 ms; returns the time each took (the deadline for those that did not finish).</summary>
    private static async Task<List<TimeSpan>> LegitimateHandshakes(OssuaryListener listener, int attempts)
    {
        var took = new List<TimeSpan>();
        for (int i = 0; i < attempts; i++)
        {
            var clock = Stopwatch.StartNew();
            using var deadline = new CancellationTokenSource(LegitDeadline);
            try
            {
                await using OssuaryStream stream = await OssuaryClient.ConnectAsync("127.0.0.1", listener.LocalEndpoint.Port, Loopback.ClientOptions(), cancellationToken: deadline.Token);
                took.Add(clock.Elapsed);
            }
            catch (Exception e) when (e is OperationCanceledException or OssuaryException or IOException or SocketException)
            {
                took.Add(LegitDeadline);
            }
            await Task.Delay(100);
        }
        return took;
    }

    /// <summary>Accepts and disposes whatever authenticates, so that established connections do not pile up.</summary>
    private static Task Drain(OssuaryListener listener, CancellationToken stop) => Task.Run(async () =>
    {
        try
        {
            while (true)
            {
                await using OssuaryStream _ = await listener.AcceptAsync(stop);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }, CancellationToken.None);

    [Theory]
    [InlineData(Attack.Silent)]
    [InlineData(Attack.OneBytePerSecond)]
    [InlineData(Attack.AnnouncesAHugeFrame)]
    public async Task AThousandSlowClientsFromOtherAddressesLeaveAClientOn127001ServedWithinHalfASecond(Attack attack)
    {
        await using OssuaryListener listener = Loopback.Listen(maxPending: 256);
        using var stop = new CancellationTokenSource();
        Task drain = Drain(listener, stop.Token);
        var sources = Enumerable.Range(2, 250).Select(i => IPAddress.Parse($"127.0.0.{i}")).ToList();
        List<Task> attackers = StartAttack(listener.LocalEndpoint, attack, 1000, sources, stop.Token);
        await Task.Delay(1500); // let the attack fill the listener

        List<TimeSpan> took = await LegitimateHandshakes(listener, 40);
        int completed = took.Count(t => t <= LegitGoal);
        output.WriteLine($"{attack}: {completed}/40 handshakes within {LegitGoal.TotalMilliseconds} ms, median {Median(took).TotalMilliseconds:0} ms, slowest {took.Max().TotalMilliseconds:0} ms; " +
                         $"dropped {listener.DroppedHandshakes}, failed {listener.FailedHandshakes}, pending {listener.PendingHandshakes}");
        Assert.True(listener.DroppedHandshakes + listener.FailedHandshakes > 0, "the attack never reached the listener");

        stop.Cancel();
        await Task.WhenAll(attackers.Append(drain)).WaitAsync(Loopback.Guard);
        Assert.True(completed >= 38, $"only {completed} of 40 legitimate handshakes completed within {LegitGoal.TotalMilliseconds} ms (95 % must)");
    }

    private static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);

    [Fact]
    public async Task TwoHundredSilentClientsFromTheClientsOwnAddressStillLetItThrough()
    {
        await using OssuaryListener listener = Loopback.Listen(maxPending: 256);
        using var stop = new CancellationTokenSource();
        Task drain = Drain(listener, stop.Token);
        List<Task> attackers = StartAttack(listener.LocalEndpoint, Attack.Silent, 200, [IPAddress.Loopback], stop.Token);
        await Task.Delay(1000);

        List<TimeSpan> took = await LegitimateHandshakes(listener, 20);
        int completed = took.Count(t => t < LegitDeadline);
        output.WriteLine($"own address: {completed}/20 within {LegitDeadline.TotalSeconds} s, slowest {took.Max().TotalMilliseconds:0} ms; dropped {listener.DroppedHandshakes}");
        stop.Cancel();
        await Task.WhenAll(attackers.Append(drain)).WaitAsync(Loopback.Guard);
        Assert.True(completed > 0, "no legitimate handshake completed while its own address attacked");
    }

    [Fact]
    public async Task FloodsOfGarbageResetsAndHalfHandshakesLeaveTheListenerServing()
    {
        await using OssuaryListener listener = Loopback.Listen(maxPending: 256, timeout: TimeSpan.FromSeconds(2));
        using var stop = new CancellationTokenSource();
        Task drain = Drain(listener, stop.Token);
        byte[] hello = HandshakeTests.Drain(OssuaryConnection.CreateClient(ConnectionPair.ClientOptions()));
        var floods = Enumerable.Range(0, 600).Select(i => Task.Run(async () =>
        {
            for (int round = 0; round < 3; round++)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.1.{i % 200 + 1}"), 0));
                    await socket.ConnectAsync(listener.LocalEndpoint);
                    switch (i % 3)
                    {
                        case 0:
                            await socket.SendAsync(RandomNumberGenerator.GetBytes(1 + i % 700));
                            break;
                        case 1:
                            socket.LingerState = new LingerOption(true, 0); // close with RST
                            break;
                        default:
                            await socket.SendAsync(hello); // a valid first message, then nothing
                            break;
                    }
                }
                catch (SocketException)
                {
                }
            }
        })).ToList();

        int completed = (await LegitimateHandshakes(listener, 20)).Count(t => t < LegitDeadline);
        await Task.WhenAll(floods).WaitAsync(Loopback.Guard);
        stop.Cancel();
        await drain.WaitAsync(Loopback.Guard);
        output.WriteLine($"floods: {completed}/20; failed {listener.FailedHandshakes}, dropped {listener.DroppedHandshakes}, accept errors {listener.AcceptErrors}");
        Assert.Equal(20, completed);
        Assert.True(listener.FailedHandshakes > 0, "the garbage never reached the listener");
    }

    [Fact]
    public async Task ChurnLeavesNoConnectionDescriptorOrHandshakeBehind()
    {
        await using OssuaryListener listener = Loopback.Listen();
        using var stop = new CancellationTokenSource();
        Task server = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    OssuaryStream accepted = await listener.AcceptAsync(stop.Token);
                    _ = Task.Run(async () =>
                    {
                        await using (accepted)
                        {
                            byte[] data = await Loopback.ReadToEnd(accepted);
                            await accepted.WriteAsync(data);
                            await accepted.ShutdownAsync();
                        }
                    });
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        async Task Round(int count) => await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            byte[] data = RandomNumberGenerator.GetBytes(1 + i % 3000);
            await using OssuaryStream stream = await Loopback.Connect(listener);
            await stream.WriteAsync(data);
            await stream.ShutdownAsync();
            Assert.Equal(data, await Loopback.ReadToEnd(stream));
        }));

        await Round(50); // warm-up: pools, threads, JIT
        await SettleAsync(listener);
        int descriptorsBefore = Descriptors();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 20; i++)
        {
            await Round(50).WaitAsync(Loopback.Guard);
        }
        await SettleAsync(listener);
        int descriptorsAfter = Descriptors();
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        stop.Cancel();
        await server.WaitAsync(Loopback.Guard);
        output.WriteLine($"1000 connections: descriptors {descriptorsBefore} -> {descriptorsAfter}, heap {heapBefore / 1024} KiB -> {heapAfter / 1024} KiB");

        Assert.Equal(0, listener.PendingHandshakes);
        Assert.Equal(0, listener.ActiveConnections);
        Assert.Equal(0, listener.FailedHandshakes);
        Assert.InRange(descriptorsAfter, 0, descriptorsBefore + 8);
        Assert.InRange(heapAfter, 0, heapBefore + 4 * 1024 * 1024);
    }

    [Fact]
    public async Task AtMaxConnectionsNewcomersWaitUntilOneIsDisposed()
    {
        await using var listener = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, 0), Loopback.ServerOptions()) { MaxConnections = 3 };
        listener.Start();
        var held = new List<OssuaryStream>();
        for (int i = 0; i < 3; i++)
        {
            await using OssuaryStream client = await Loopback.Connect(listener);
            held.Add(await listener.AcceptAsync().AsTask().WaitAsync(Loopback.Guard));
        }
        Assert.Equal(3, listener.ActiveConnections);
        Task<OssuaryStream> fourth = Loopback.Connect(listener);
        await Task.Delay(500);
        Assert.False(fourth.IsCompleted, "a fourth connection was served at MaxConnections = 3");
        await held[0].DisposeAsync();
        await using OssuaryStream served = await fourth.WaitAsync(Loopback.Guard);
        await using OssuaryStream accepted = await listener.AcceptAsync().AsTask().WaitAsync(Loopback.Guard);
        Assert.Equal(3, listener.ActiveConnections);
        foreach (OssuaryStream stream in held.Skip(1))
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public void TheDefaultConnectionCapFollowsTheDescriptorLimit()
    {
        string limits = File.ReadAllText("/proc/self/limits");
        string line = limits.Split('\n').Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        long soft = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal((int)Math.Clamp((soft - 64 - 256) / 2, 16, int.MaxValue), OssuaryListener.DefaultMaxConnections(256));
    }

    private static async Task SettleAsync(OssuaryListener listener)
    {
        for (int i = 0; i < 100 && (listener.PendingHandshakes > 0 || listener.ActiveConnections > 0); i++)
        {
            await Task.Delay(50);
        }
        await Task.Delay(200);
    }

    private static int Descriptors() => Directory.GetFiles("/proc/self/fd").Length;
}
