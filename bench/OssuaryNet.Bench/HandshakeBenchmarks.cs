using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using OssuaryNet.Crypto;

namespace OssuaryNet.Bench;

/// <summary>
/// Full handshakes with both ends in process: OssuaryStream (XX and IK) and SslStream (TLS 1.3, ECDSA P-256) over an
/// in-memory duplex pipe; the sans-I/O core alone; and the bound set by the X25519 operations a handshake needs
/// (XX: 2 key generations + 6 DH; IK: 2 + 7, counted over both ends). The IK client reuses its static-static DH
/// for a server it has contacted before, as it does here after the first iteration; a first contact costs one more.
/// The concurrent group keeps <see cref="InFlight"/> handshakes running at once on the thread pool and reports the
/// time per handshake, i.e. the inverse of handshakes per second with every core busy.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class HandshakeBenchmarks
{
    private const string Sequential = "sequential", Concurrent = "concurrent";
    private const int InFlight = 8;

    private readonly byte[] _scalar = new byte[32], _point = new byte[32];
    private static readonly OssuaryClientOptions XXOptions = Endpoints.ClientOptions(pin: false);
    private static readonly OssuaryClientOptions IKOptions = Endpoints.ClientOptions(pin: true);
    private static readonly OssuaryClientOptions XXhfsOptions = Endpoints.ClientOptions(pin: false, hybrid: true);
    private static readonly OssuaryClientOptions IKhfsOptions = Endpoints.ClientOptions(pin: true, hybrid: true);

    [GlobalSetup]
    public void Setup()
    {
        Primitives.RandomBytes(_scalar);
        Primitives.X25519Base(_scalar, _point);
    }

    [Benchmark(Baseline = true, Description = "SslStream TLS 1.3 (memory pipe)"), BenchmarkCategory(Sequential)]
    public async Task Tls13() => await Dispose(await Endpoints.Pair(Channel.Tls13, Transport.Memory));

    [Benchmark(Description = "OssuaryStream XX (memory pipe)"), BenchmarkCategory(Sequential)]
    public async Task OssuaryStreamXX() => await Dispose(await Endpoints.Pair(Channel.Ossuary, Transport.Memory, pin: false));

    [Benchmark(Description = "OssuaryStream IK (memory pipe)"), BenchmarkCategory(Sequential)]
    public async Task OssuaryStreamIK() => await Dispose(await Endpoints.Pair(Channel.Ossuary, Transport.Memory, pin: true));

    [Benchmark(Description = "OssuaryStream XXhfs (memory pipe)"), BenchmarkCategory(Sequential)]
    public async Task OssuaryStreamXXhfs() => await Dispose(await Endpoints.Pair(Channel.OssuaryHybrid, Transport.Memory, pin: false));

    [Benchmark(Description = "OssuaryStream IKhfs (memory pipe)"), BenchmarkCategory(Sequential)]
    public async Task OssuaryStreamIKhfs() => await Dispose(await Endpoints.Pair(Channel.OssuaryHybrid, Transport.Memory, pin: true));

    [Benchmark(Baseline = true, OperationsPerInvoke = InFlight, Description = "SslStream TLS 1.3, 8 in flight"), BenchmarkCategory(Concurrent)]
    public Task Tls13Concurrent() => RunConcurrently(Channel.Tls13, pin: false);

    [Benchmark(OperationsPerInvoke = InFlight, Description = "OssuaryStream XX, 8 in flight"), BenchmarkCategory(Concurrent)]
    public Task OssuaryStreamXXConcurrent() => RunConcurrently(Channel.Ossuary, pin: false);

    [Benchmark(OperationsPerInvoke = InFlight, Description = "OssuaryStream IK, 8 in flight"), BenchmarkCategory(Concurrent)]
    public Task OssuaryStreamIKConcurrent() => RunConcurrently(Channel.Ossuary, pin: true);

    [Benchmark(Description = "OssuaryConnection XX (sans-I/O)"), BenchmarkCategory(Sequential)]
    public void CoreXX() => CoreHandshake(pin: false);

    [Benchmark(Description = "OssuaryConnection IK (sans-I/O)"), BenchmarkCategory(Sequential)]
    public void CoreIK() => CoreHandshake(pin: true);

    [Benchmark(Description = "OssuaryConnection XXhfs (sans-I/O)"), BenchmarkCategory(Sequential)]
    public void CoreXXhfs() => CoreHandshake(pin: false, hybrid: true);

    [Benchmark(Description = "OssuaryConnection IKhfs (sans-I/O)"), BenchmarkCategory(Sequential)]
    public void CoreIKhfs() => CoreHandshake(pin: true, hybrid: true);

    [Benchmark(Description = "X25519 bound for XX (8 operations)"), BenchmarkCategory(Sequential)]
    public void X25519BoundXX() => X25519Operations(8);

    [Benchmark(Description = "X25519 bound for IK (9 operations)"), BenchmarkCategory(Sequential)]
    public void X25519BoundIK() => X25519Operations(9);

    [Benchmark(OperationsPerInvoke = InFlight, Description = "X25519 bound for XX, 8 in flight"), BenchmarkCategory(Concurrent)]
    public void X25519BoundXXConcurrent() => Parallel.For(0, InFlight, _ => X25519Operations(8));

    [Benchmark(OperationsPerInvoke = InFlight, Description = "X25519 bound for IK, 8 in flight"), BenchmarkCategory(Concurrent)]
    public void X25519BoundIKConcurrent() => Parallel.For(0, InFlight, _ => X25519Operations(9));

    private void X25519Operations(int count)
    {
        Span<byte> shared = stackalloc byte[32];
        Primitives.X25519Base(_scalar, shared);
        for (int i = 1; i < count; i++)
        {
            Primitives.X25519(_scalar, _point, shared);
        }
    }

    private static void CoreHandshake(bool pin, bool hybrid = false)
    {
        using var client = OssuaryConnection.CreateClient(hybrid ? (pin ? IKhfsOptions : XXhfsOptions) : pin ? IKOptions : XXOptions);
        using var server = OssuaryConnection.CreateServer(Endpoints.ServerOptions);
        Span<byte> buffer = stackalloc byte[4096]; // the hybrid first messages are about 1.3 KB
        while (client.State == OssuaryConnectionState.Handshaking || server.State == OssuaryConnectionState.Handshaking || client.HasPendingOutput)
        {
            client.Send(default, buffer, out _, out int written);
            if (written > 0)
            {
                server.Receive(buffer[..written], default, out _, out _);
                Endpoints.VerifyPending(server);
            }
            server.Send(default, buffer, out _, out written);
            if (written > 0)
            {
                client.Receive(buffer[..written], default, out _, out _);
                Endpoints.VerifyPending(client);
            }
        }
    }

    /// <summary>Starts <see cref="InFlight"/> handshakes (each a client and a server) on the thread pool at once.</summary>
    private static Task RunConcurrently(Channel channel, bool pin)
    {
        var handshakes = new Task[InFlight];
        for (int i = 0; i < InFlight; i++)
        {
            handshakes[i] = Task.Run(async () => await Dispose(await Endpoints.Pair(channel, Transport.Memory, pin)));
        }
        return Task.WhenAll(handshakes);
    }

    private static async Task Dispose((Stream Client, Stream Server) pair)
    {
        await pair.Client.DisposeAsync();
        await pair.Server.DisposeAsync();
    }
}
