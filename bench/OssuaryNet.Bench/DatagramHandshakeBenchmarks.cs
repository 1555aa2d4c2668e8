using BenchmarkDotNet.Attributes;
using OssuaryNet.Crypto;
using OssuaryNet.Datagram;

namespace OssuaryNet.Bench;

/// <summary>
/// Datagram handshakes between two endpoints in memory (one connection made and closed per operation), against the
/// bound set by the X25519 operations they need: XX 2 key generations + 6 DH; IK the same once each side has cached
/// its static-static result for the other (as here after the first iteration).
/// </summary>
[MemoryDiagnoser]
public class DatagramHandshakeBenchmarks
{
    private static readonly byte[] ServerAddress = [2];
    private readonly byte[] _scalar = new byte[32], _point = new byte[32];
    private DatagramEndpoint _client = null!, _server = null!;
    private TimeSpan _now;

    [GlobalSetup]
    public void Setup()
    {
        Primitives.RandomBytes(_scalar);
        Primitives.X25519Base(_scalar, _point);
        (_client, _server, _, _) = DatagramPair.Connect(OssuarySuite.ChaChaPolyBlake2b);
        _now = DatagramPair.Start;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Benchmark(Baseline = true, Description = "X25519 bound (8 operations)")]
    public void X25519Bound()
    {
        Span<byte> shared = stackalloc byte[32];
        Primitives.X25519Base(_scalar, shared);
        Primitives.X25519Base(_scalar, shared);
        for (int i = 0; i < 6; i++)
        {
            Primitives.X25519(_scalar, _point, shared);
        }
    }

    [Benchmark(Description = "DatagramEndpoint XX handshake")]
    public void XX() => Handshake(ik: false);

    [Benchmark(Description = "DatagramEndpoint IK handshake")]
    public void IK() => Handshake(ik: true);

    private void Handshake(bool ik)
    {
        // Far enough apart that IK timestamps rise, the 20 ms rule holds, and the closed connections are gone.
        _now += TimeSpan.FromSeconds(20);
        _client.HandleTimeout(_now);
        _server.HandleTimeout(_now);
        DatagramHandle handle = _client.Connect(ServerAddress, ik ? Endpoints.ServerKey.PublicKey : null, _now);
        List<(DatagramEndpoint Endpoint, DatagramEvent Event)> events = DatagramPair.Exchange(_client, _server, _now);
        DatagramHandle accepted = events.First(x => x.Endpoint == _server && x.Event.Kind == DatagramEventKind.Accepted).Event.Handle;
        _client.Close(handle, 0, _now);
        _server.Close(accepted, 0, _now);
        DatagramPair.Exchange(_client, _server, _now);
    }
}
