// A secure UDP ping in one process: a server that echoes datagrams from verified clients, and a client that pins
// the server's key (one-round-trip IK handshake), pings it and prints what the connection measured.
//   dotnet run --project examples/UdpPing
using System.Net;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();

await using var server = OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0),
    new DatagramOptions { Identity = serverKey, AcceptConnections = true }, PeerVerifier.Pinned(clientKey.PublicKey));
_ = Task.Run(async () =>
{
    OssuaryUdpConnection peer = await server.AcceptAsync();
    Console.WriteLine($"server: accepted {peer.PeerFingerprint} from {peer.RemoteEndPoint}");
    byte[] buffer = new byte[server.MaxPayloadSize];
    while (await peer.ReceiveAsync(buffer) is { IsClosed: false } got)
    {
        await peer.SendAsync(buffer.AsMemory(0, got.Length));
    }
});

await using var client = OssuaryUdpEndpoint.Bind(new IPEndPoint(IPAddress.Loopback, 0), new DatagramOptions { Identity = clientKey });
OssuaryUdpConnection connection = await client.ConnectAsync(server.LocalEndPoint, serverKey.PublicKey);
Console.WriteLine($"client: connected to {connection.PeerFingerprint} ({connection.GetInfo().Pattern})");
byte[] reply = new byte[client.MaxPayloadSize];
var rtts = new List<double>();
for (int i = 1; i <= 5; i++)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    await connection.SendAsync(System.Text.Encoding.UTF8.GetBytes($"ping {i}"));
    using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(2));
    DatagramReceiveResult got = await connection.ReceiveAsync(reply, patience.Token);
    rtts.Add(clock.Elapsed.TotalMilliseconds);
    Console.WriteLine($"client: {System.Text.Encoding.UTF8.GetString(reply, 0, got.Length)} back in {rtts[^1]:F2} ms");
}
DatagramConnectionInfo info = connection.GetInfo();
Console.WriteLine($"client: {rtts.Count} pings, rtt min/avg/max {rtts.Min():F2}/{rtts.Average():F2}/{rtts.Max():F2} ms; {info.PacketsOut} packets out, {info.PacketsIn} in, loss {info.EstimatedLoss:P0}");
// The connection's own estimate comes from handshakes and path challenges, not data: here one handshake, the first
// round trip of a fresh process (keys made, code compiled), slower than the pings that follow it.
Console.WriteLine($"client: the connection's round-trip estimate (handshakes and path challenges only) {info.SmoothedRtt?.TotalMilliseconds:F2} ms");
connection.Close();
