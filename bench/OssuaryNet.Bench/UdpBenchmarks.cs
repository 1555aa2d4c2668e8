using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using OssuaryNet.Datagram;
using OssuaryNet.Trust;

namespace OssuaryNet.Bench;

/// <summary>
/// Datagrams over loopback UDP, one way, in windows of <see cref="Window"/> (sent, then all received, so that no
/// socket buffer overflows): raw UDP between two sockets, then the same through <see cref="OssuaryUdpEndpoint"/>s
/// with one connection and with 100 connections sharing the server's socket (each window goes to 32 of them in turn).
/// A datagram that never arrives fails the run after 2 s rather than hanging it. Reported per datagram; goal: the
/// secure path at 60 % or more of raw UDP at 1200 bytes.
/// </summary>
[MemoryDiagnoser]
public class UdpBenchmarks
{
    private const int Window = 32; // small enough for the default socket buffers: a window is never dropped

    private Socket _rawSender = null!, _rawReceiver = null!;
    private EndPoint _rawTarget = null!;
    private OssuaryUdpEndpoint _server = null!, _client = null!;
    private OssuaryUdpConnection[] _clientConnections = null!, _serverConnections = null!;
    private const int Connections = 100;
    private byte[] _payload = null!, _buffer = null!;
    private int _next;

    [Params(64, 1200)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = new byte[Size];
        Random.Shared.NextBytes(_payload);
        _buffer = new byte[65536];
        _rawReceiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _rawReceiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _rawReceiver.ReceiveTimeout = 2000;
        _rawSender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _rawSender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _rawTarget = _rawReceiver.LocalEndPoint!;

        var big = new DatagramOptions { Identity = Endpoints.ServerKey, AcceptConnections = true, MaxDatagramSize = 1500 };
        _server = OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0), big, PeerVerifier.AcceptAny);
        _client = OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0), new DatagramOptions { Identity = Endpoints.ClientKey, MaxDatagramSize = 1500 });
        // 100 connections (XX by fingerprint: IK from one key is limited to one handshake per 20 ms).
        _clientConnections = Enumerable.Range(0, Connections)
            .Select(_ => _client.ConnectAsync(_server.LocalEndPoint, Endpoints.ServerKey.PublicKey.Fingerprint).GetAwaiter().GetResult())
            .ToArray();
        _serverConnections = new OssuaryUdpConnection[Connections];
        OssuaryUdpConnection[] accepted = Enumerable.Range(0, Connections).Select(_ => _server.AcceptAsync().AsTask().GetAwaiter().GetResult()).ToArray();
        // Pair each client connection with the server's by a datagram carrying its index. Datagrams may be lost (a
        // data packet that overtakes a lost Finish, a full socket buffer), so unanswered ones are sent again.
        for (int round = 0; round < 20 && _serverConnections.Contains(null); round++)
        {
            for (int i = 0; i < Connections; i++)
            {
                if (_serverConnections[i] is null)
                {
                    _clientConnections[i].SendAsync(BitConverter.GetBytes(i)).AsTask().GetAwaiter().GetResult();
                }
            }
            foreach (OssuaryUdpConnection connection in accepted.Where(a => !_serverConnections.Contains(a)))
            {
                if (ReceiveWithin(connection, TimeSpan.FromMilliseconds(200)) == sizeof(int))
                {
                    _serverConnections[BitConverter.ToInt32(_buffer, 0)] = connection;
                }
            }
        }
        if (_serverConnections.Contains(null))
        {
            throw new InvalidOperationException("Some connections could not be paired in 20 rounds.");
        }
        // Index datagrams sent again but answered already would be taken for the benchmark's own: drop them.
        foreach (OssuaryUdpConnection connection in _serverConnections)
        {
            while (ReceiveWithin(connection, TimeSpan.FromMilliseconds(20)) > 0)
            {
            }
        }
    }

    /// <summary>The length of the next datagram, or 0 when none comes in time.</summary>
    private int ReceiveWithin(OssuaryUdpConnection connection, TimeSpan patience)
    {
        using var deadline = new CancellationTokenSource(patience);
        try
        {
            DatagramReceiveResult got = connection.ReceiveAsync(_buffer, deadline.Token).AsTask().GetAwaiter().GetResult();
            return got.IsClosed ? throw new InvalidOperationException($"A benchmark connection closed: {got}.") : got.Length;
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rawSender.Dispose();
        _rawReceiver.Dispose();
        _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Window, Description = "raw UDP (same loopback)")]
    public int RawUdp()
    {
        for (int i = 0; i < Window; i++)
        {
            _rawSender.SendTo(_payload, _rawTarget);
        }
        int total = 0;
        for (int i = 0; i < Window; i++)
        {
            total += _rawReceiver.Receive(_buffer);
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Window, Description = "OssuaryUdpEndpoint, 1 connection")]
    public async Task<int> OneConnection()
    {
        OssuaryUdpConnection sender = _clientConnections[0], receiver = _serverConnections[0];
        for (int i = 0; i < Window; i++)
        {
            await sender.SendAsync(_payload);
        }
        int total = 0;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        for (int i = 0; i < Window; i++)
        {
            total += await Receive(receiver, patience.Token);
        }
        return total;
    }

    // One deadline per window (not per datagram, which would measure the allocation of a CancellationTokenSource):
    // a datagram lost on loopback fails the run instead of hanging it.
    private async ValueTask<int> Receive(OssuaryUdpConnection connection, CancellationToken patience) =>
        (await connection.ReceiveAsync(_buffer, patience)).Length;

    [Benchmark(OperationsPerInvoke = Window, Description = "OssuaryUdpEndpoint, 100 connections in turn")]
    public async Task<int> HundredConnections()
    {
        int first = _next;
        _next = (_next + Window) % Connections;
        for (int i = 0; i < Window; i++)
        {
            await _clientConnections[(first + i) % Connections].SendAsync(_payload);
        }
        int total = 0;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        for (int i = 0; i < Window; i++)
        {
            total += await Receive(_serverConnections[(first + i) % Connections], patience.Token);
        }
        return total;
    }
}
