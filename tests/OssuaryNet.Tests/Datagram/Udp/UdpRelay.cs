using System.Net;
using System.Net.Sockets;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>
/// Plain UDP helpers for tunnel tests: an echo service, and a relay that sits between a tunnel's two ends and loses a
/// share of the packets each way (seeded), until disposed.
/// </summary>
internal sealed class UdpRelay : IDisposable
{
    private readonly Socket _front = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Socket _back = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new();
    private readonly Random _random;
    private IPEndPoint? _lastFront;

    public UdpRelay(IPEndPoint target, double loss, int seed)
    {
        _random = new Random(seed);
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _back.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _ = Pump(_front, from => { _lastFront = from; return target; }, _back, loss);
        _ = Pump(_back, _ => _lastFront, _front, loss);
    }

    public int Port => ((IPEndPoint)_front.LocalEndPoint!).Port;

    public long Dropped;

    private async Task Pump(Socket from, Func<IPEndPoint, IPEndPoint?> where, Socket through, double loss)
    {
        byte[] buffer = new byte[65536];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                SocketReceiveFromResult got = await from.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                IPEndPoint? to = where((IPEndPoint)got.RemoteEndPoint);
                bool lose;
                lock (_random)
                {
                    lose = _random.NextDouble() < loss;
                }
                if (lose)
                {
                    Interlocked.Increment(ref Dropped);
                    continue;
                }
                if (to is not null)
                {
                    await through.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), SocketFlags.None, to);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    /// <summary>A plain UDP echo service on loopback; returns its port and a disposable that stops it.</summary>
    public static (int Port, IDisposable Stop) Echo()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var stop = new CancellationTokenSource();
        _ = Task.Run(async () =>
        {
            byte[] buffer = new byte[65536];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    SocketReceiveFromResult got = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                    await socket.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), SocketFlags.None, got.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        });
        return (((IPEndPoint)socket.LocalEndPoint!).Port, new Stopper(stop, socket));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _front.Dispose();
        _back.Dispose();
    }

    private sealed class Stopper(CancellationTokenSource stop, Socket socket) : IDisposable
    {
        public void Dispose()
        {
            stop.Cancel();
            socket.Dispose();
        }
    }
}
