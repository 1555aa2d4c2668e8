using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using OssuaryNet.Crypto;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Bench;

/// <summary>
/// Datagram mode's data path through two endpoints in memory (Send → TryPollTransmit → HandleDatagram → TryReceive)
/// against the raw AEAD seal + open of the same inner plaintext (payload and content type) with the 16-byte header
/// as associated data, on the same backend, in the same run. Goal: the endpoint at 85 % or more of the raw AEAD.
/// </summary>
[MemoryDiagnoser]
public class DatagramBenchmarks
{
    private static readonly byte[] ClientAddress = [1], ServerAddress = [2];
    private DatagramEndpoint _client = null!, _server = null!;
    private DatagramHandle _clientHandle, _serverHandle;
    private NoiseCipher _rawCipher = null!;
    private byte[] _rawKey = null!;
    private IDisposable? _rawBackend;
    private byte[] _payload = null!, _packet = null!, _address = null!, _received = null!, _rawCiphertext = null!, _header = null!;
    private TimeSpan _now;

    [Params(64, 1200)]
    public int Size { get; set; }

    [Params(OssuarySuite.ChaChaPolyBlake2b, OssuarySuite.AesGcmSha256)]
    public OssuarySuite Suite { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_client, _server, _clientHandle, _serverHandle) = DatagramPair.Connect(Suite, maxDatagramSize: 1500);
        _rawCipher = Suite == OssuarySuite.ChaChaPolyBlake2b ? ChaChaPolyCipher.Instance : AesGcmCipher.Instance;
        _rawKey = RandomNumberGenerator.GetBytes(32);
        _payload = RandomNumberGenerator.GetBytes(Size);
        _packet = new byte[1500];
        _address = new byte[64];
        _received = new byte[1500];
        _rawCiphertext = new byte[Size + 1 + 16];
        _header = new byte[16];
        _now = DatagramPair.Start;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw AEAD seal+open (same backend, packet-sized, 16-byte AD)")]
    public bool RawAead()
    {
        _rawCipher.Seal(_rawKey, ref _rawBackend, 1, _header, _received.AsSpan(0, Size + 1), _rawCiphertext);
        return _rawCipher.Open(_rawKey, ref _rawBackend, 1, _header, _rawCiphertext, _received.AsSpan(0, Size + 1));
    }

    [Benchmark(Description = "DatagramEndpoint Send → HandleDatagram → TryReceive")]
    public int DataPacket()
    {
        _now += TimeSpan.FromTicks(10); // well inside the key lifetime however long the run
        _client.Send(_clientHandle, _payload, _now);
        _client.TryPollTransmit(_packet, _address, out int length, out _);
        _server.HandleDatagram(_packet.AsSpan(0, length), ClientAddress, _now);
        while (_server.TryPollEvent(out _))
        {
        }
        _server.TryReceive(_serverHandle, _received, out int received, out _);
        return received;
    }
}

/// <summary>Two datagram endpoints connected in memory (IK), for the benchmarks.</summary>
internal static class DatagramPair
{
    public static readonly TimeSpan Start = TimeSpan.FromSeconds(1);

    // Reused so that the handshake benchmark's allocation figure is the endpoints', not this harness's.
    private static readonly byte[] Packet = new byte[65536], Address = new byte[64];
    private static readonly byte[] ClientAddress = [1], ServerAddress = [2];

    public static (DatagramEndpoint Client, DatagramEndpoint Server, DatagramHandle ClientHandle, DatagramHandle ServerHandle) Connect(OssuarySuite suite, int maxDatagramSize = 1200)
    {
        var client = new DatagramEndpoint(new DatagramOptions { Identity = Endpoints.ClientKey, Suite = suite, MaxDatagramSize = maxDatagramSize }, Start);
        var server = new DatagramEndpoint(new DatagramOptions { Identity = Endpoints.ServerKey, Suite = suite, MaxDatagramSize = maxDatagramSize, AcceptConnections = true }, Start);
        DatagramHandle handle = client.Connect(ServerAddress, Endpoints.ServerKey.PublicKey, Start);
        DatagramHandle accepted = Exchange(client, server, Start).FirstOrDefault(x => x.Endpoint == server && x.Event.Kind == DatagramEventKind.Accepted).Event.Handle;
        if (accepted.Value == 0 || !client.GetInfo(handle).IsEstablished || !server.GetInfo(accepted).IsEstablished)
        {
            throw new InvalidOperationException("The benchmark's datagram handshake did not complete.");
        }
        return (client, server, handle, accepted);
    }

    /// <summary>Moves packets both ways, accepting every key, until both endpoints are quiet; returns the other events seen.</summary>
    public static List<(DatagramEndpoint Endpoint, DatagramEvent Event)> Exchange(DatagramEndpoint client, DatagramEndpoint server, TimeSpan now)
    {
        var events = new List<(DatagramEndpoint, DatagramEvent)>();
        byte[] packet = Packet, address = Address;
        bool moved = true;
        while (moved)
        {
            moved = false;
            foreach ((DatagramEndpoint from, DatagramEndpoint to, byte[] fromAddress) in ((DatagramEndpoint, DatagramEndpoint, byte[])[])[(client, server, ClientAddress), (server, client, ServerAddress)])
            {
                Answer(from, now, events);
                while (from.TryPollTransmit(packet, address, out int length, out _))
                {
                    moved = true;
                    to.HandleDatagram(packet.AsSpan(0, length), fromAddress, now);
                    Answer(to, now, events);
                }
            }
        }
        return events;
    }

    private static void Answer(DatagramEndpoint endpoint, TimeSpan now, List<(DatagramEndpoint, DatagramEvent)> events)
    {
        while (endpoint.TryPollEvent(out DatagramEvent e))
        {
            if (e.Kind == DatagramEventKind.VerificationRequired)
            {
                endpoint.CompletePeerVerification(e.Handle, PeerVerdict.Accept(), now);
            }
            else
            {
                events.Add((endpoint, e));
            }
        }
    }
}
