using System.Net;
using System.Net.Sockets;

namespace OssuaryNet.Tests;

/// <summary>A plain TCP echo service on loopback (the local service behind a tunnel), until disposed.</summary>
internal sealed class PlainEchoServer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();

    public PlainEchoServer()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(512);
        _ = Task.Run(async () =>
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    Socket client = await _socket.AcceptAsync(_stop.Token);
                    _ = Task.Run(async () =>
                    {
                        using (client)
                        await using (var stream = new NetworkStream(client))
                        {
                            await stream.CopyToAsync(stream);
                            client.Shutdown(SocketShutdown.Send);
                        }
                    });
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        });
    }

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
    }
}
