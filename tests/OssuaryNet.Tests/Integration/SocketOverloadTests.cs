using System.Net;
using System.Net.Sockets;
using System.Text;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Integration;

/// <summary>Endpoints and sockets other than "host, port": IPv6, Unix domain sockets, sockets the caller made.</summary>
public sealed class SocketOverloadTests
{
    private static OssuaryServerOptions ServerOptions => new() { StaticKeyPair = TestKeys.Server, PeerVerifier = PeerVerifier.Pinned(TestKeys.Client.PublicKey) };

    private static OssuaryClientOptions ClientOptions => new() { StaticKeyPair = TestKeys.Client, PeerVerifier = PeerVerifier.Pinned(TestKeys.Server.PublicKey) };

    private static async Task EchoOnceAsync(OssuaryListener listener)
    {
        await using OssuaryStream server = await listener.AcceptAsync();
        byte[] buffer = new byte[64];
        int read = await server.ReadAsync(buffer);
        await server.WriteAsync(buffer.AsMemory(0, read));
        await server.ShutdownAsync();
    }

    private static async Task<string> RoundTripAsync(OssuaryStream client, string text)
    {
        await client.WriteAsync(Encoding.UTF8.GetBytes(text));
        byte[] buffer = new byte[64];
        int read = await client.ReadAsync(buffer);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task AListenerOverAUnixSocketServesConnectAsyncWithAUnixEndPoint()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ossuary-{Guid.NewGuid():N}.sock");
        try
        {
            var endpoint = new UnixDomainSocketEndPoint(path);
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(endpoint);
            await using var listener = new OssuaryListener(socket, ServerOptions);
            listener.Start();
            Assert.Throws<InvalidOperationException>(() => listener.LocalEndpoint);
            Task served = EchoOnceAsync(listener);

            await using OssuaryStream client = await OssuaryClient.ConnectAsync(endpoint, ClientOptions);
            Assert.Equal("over a unix socket", await RoundTripAsync(client, "over a unix socket"));
            Assert.Equal(0, await client.ReadAsync(new byte[1]));
            await served;
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ConnectAsyncTakesAnIPv6EndPointAndNamesItInBrackets()
    {
        await using var listener = new OssuaryListener(new IPEndPoint(IPAddress.IPv6Loopback, 0), ServerOptions);
        listener.Start();
        Task served = EchoOnceAsync(listener);
        string? seenName = null;
        OssuaryClientOptions options = ClientOptions;
        options.PeerVerifier = PeerVerifier.FromCallback(peer =>
        {
            seenName = peer.Endpoint;
            return peer.PublicKey == TestKeys.Server.PublicKey ? PeerVerdict.Accept() : PeerVerdict.Reject("not the server");
        });

        await using OssuaryStream client = await OssuaryClient.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, listener.LocalEndpoint.Port), options);
        Assert.Equal("v6", await RoundTripAsync(client, "v6"));
        Assert.Equal($"[::1]:{listener.LocalEndpoint.Port}", seenName);
        await served;
    }

    [Fact]
    public async Task AnAlreadyConnectedSocketIsAuthenticatedAndOwnedByTheStream()
    {
        await using var listener = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, 0), ServerOptions);
        listener.Start();
        Task served = EchoOnceAsync(listener);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndpoint);

        await using (OssuaryStream client = await OssuaryClient.AuthenticateAsync(socket, ClientOptions))
        {
            Assert.Equal("mine", await RoundTripAsync(client, "mine"));
        }
        Assert.Throws<ObjectDisposedException>(() => socket.Send(new byte[1]));
        await served;
    }

    [Fact]
    public async Task CallerMistakesAreArgumentExceptions()
    {
        using var unconnected = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<ArgumentException>(() => OssuaryClient.AuthenticateAsync(unconnected, ClientOptions));
        using var unbound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.Throws<ArgumentException>(() => new OssuaryListener(unbound, ServerOptions));
        await Assert.ThrowsAsync<ArgumentException>(() => OssuaryClient.ConnectAsync(new FakeEndPoint(), ClientOptions));
    }

    private sealed class FakeEndPoint : EndPoint;
}
