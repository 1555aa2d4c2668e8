using System.Net;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>A listener and a client on loopback UDP with one connection between them (IK), for the wrapper's tests.</summary>
internal sealed class UdpPair : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private UdpPair(OssuaryKeyPair serverKey, OssuaryKeyPair clientKey, OssuaryUdpEndpoint server, OssuaryUdpEndpoint client)
    {
        (ServerKey, ClientKey, Server, Client) = (serverKey, clientKey, server, client);
    }

    public OssuaryKeyPair ServerKey { get; }
    public OssuaryKeyPair ClientKey { get; }
    public OssuaryUdpEndpoint Server { get; }
    public OssuaryUdpEndpoint Client { get; }
    public OssuaryUdpConnection Connection { get; private set; } = null!;
    public OssuaryUdpConnection Accepted { get; private set; } = null!;

    public static async Task<UdpPair> ConnectAsync(Action<DatagramOptions>? server = null, ReadOnlyMemory<byte> earlyData = default)
    {
        OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();
        var options = new DatagramOptions { Identity = serverKey, AcceptConnections = true };
        server?.Invoke(options);
        var pair = new UdpPair(serverKey, clientKey,
            OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0), options, PeerVerifier.AcceptAny),
            OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0), new DatagramOptions { Identity = clientKey }));
        pair.Connection = await pair.Client.ConnectAsync(pair.Server.LocalEndPoint, serverKey.PublicKey, earlyData).WaitAsync(Patience);
        pair.Accepted = await pair.Server.AcceptAsync().AsTask().WaitAsync(Patience);
        return pair;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        ServerKey.Dispose();
        ClientKey.Dispose();
    }
}
