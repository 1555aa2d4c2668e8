using BenchmarkDotNet.Attributes;
using OssuaryNet.Interop;

namespace OssuaryNet.Bench;

/// <summary>
/// Full handshakes with both ends in process: OssuaryStream (XX and IK) and SslStream (TLS 1.3, ECDSA P-256) over an
/// in-memory duplex pipe; the sans-I/O core alone; and the bound set by the X25519 operations a handshake needs
/// (XX: 2 key generations + 6 DH; IK: 2 + 7, counted over both ends). The IK client reuses its static-static DH
/// for a server it has contacted before, as it does here after the first iteration; a first contact costs one more.
/// </summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private readonly byte[] _scalar = new byte[32], _point = new byte[32], _shared = new byte[32];
    private static readonly OssuaryClientOptions XXOptions = Endpoints.ClientOptions(pin: false);
    private static readonly OssuaryClientOptions IKOptions = Endpoints.ClientOptions(pin: true);

    [GlobalSetup]
    public void Setup()
    {
        LibSodium.RandomBytes(_scalar);
        LibSodium.X25519Base(_scalar, _point);
    }

    [Benchmark(Baseline = true, Description = "SslStream TLS 1.3 (memory pipe)")]
    public async Task Tls13() => await Dispose(await Endpoints.Pair(Channel.Tls13, Transport.Memory));

    [Benchmark(Description = "OssuaryStream XX (memory pipe)")]
    public async Task OssuaryStreamXX() => await Dispose(await Endpoints.Pair(Channel.Ossuary, Transport.Memory, pin: false));

    [Benchmark(Description = "OssuaryStream IK (memory pipe)")]
    public async Task OssuaryStreamIK() => await Dispose(await Endpoints.Pair(Channel.Ossuary, Transport.Memory, pin: true));

    [Benchmark(Description = "OssuaryConnection XX (sans-I/O)")]
    public void CoreXX() => CoreHandshake(pin: false);

    [Benchmark(Description = "OssuaryConnection IK (sans-I/O)")]
    public void CoreIK() => CoreHandshake(pin: true);

    [Benchmark(Description = "X25519 bound for XX (8 operations)")]
    public void X25519BoundXX() => X25519Operations(8);

    [Benchmark(Description = "X25519 bound for IK (9 operations)")]
    public void X25519BoundIK() => X25519Operations(9);

    private void X25519Operations(int count)
    {
        LibSodium.X25519Base(_scalar, _shared);
        for (int i = 1; i < count; i++)
        {
            LibSodium.X25519(_scalar, _point, _shared);
        }
    }

    private static void CoreHandshake(bool pin)
    {
        using var client = OssuaryConnection.CreateClient(pin ? IKOptions : XXOptions);
        using var server = OssuaryConnection.CreateServer(Endpoints.ServerOptions);
        Span<byte> buffer = stackalloc byte[512];
        while (client.State == OssuaryConnectionState.Handshaking || server.State == OssuaryConnectionState.Handshaking || client.HasPendingOutput)
        {
            client.Send(default, buffer, out _, out int written);
            if (written > 0)
            {
                server.Receive(buffer[..written], default, out _, out _);
            }
            server.Send(default, buffer, out _, out written);
            if (written > 0)
            {
                client.Receive(buffer[..written], default, out _, out _);
            }
        }
    }

    private static async Task Dispose((Stream Client, Stream Server) pair)
    {
        await pair.Client.DisposeAsync();
        await pair.Server.DisposeAsync();
    }
}
