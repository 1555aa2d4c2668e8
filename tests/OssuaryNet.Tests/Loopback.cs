using System.Net;
using System.Net.Sockets;
using OssuaryNet.Trust;

namespace OssuaryNet.Tests;

/// <summary>Helpers for tests over real loopback TCP sockets.</summary>
internal static class Loopback
{
    /// <summary>Generous limit after which a stuck test fails instead of hanging; never a performance threshold.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    public static OssuaryClientOptions ClientOptions(PeerVerifier? verifier = null) => new()
    {
        StaticKeyPair = TestKeys.Client,
        PeerVerifier = verifier ?? PeerVerifier.Pinned(TestKeys.Server.PublicKey),
    };

    public static OssuaryServerOptions ServerOptions(PeerVerifier? verifier = null) => new()
    {
        StaticKeyPair = TestKeys.Server,
        PeerVerifier = verifier ?? PeerVerifier.Pinned(TestKeys.Client.PublicKey),
    };

    public static OssuaryListener Listen(OssuaryServerOptions? options = null, int maxPending = 64, TimeSpan? timeout = null, Action<Exception, EndPoint?>? failed = null)
    {
        var listener = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, 0), options ?? ServerOptions())
        {
            MaxPendingHandshakes = maxPending,
            HandshakeTimeout = timeout ?? TimeSpan.FromSeconds(20),
            HandshakeFailed = failed,
        };
        listener.Start();
        return listener;
    }

    public static Task<OssuaryStream> Connect(OssuaryListener listener, OssuaryClientOptions? options = null) =>
        OssuaryClient.ConnectAsync("127.0.0.1", listener.LocalEndpoint.Port, options ?? ClientOptions());

    /// <summary>A plain TCP socket connected to the listener, for clients that misbehave.</summary>
    public static async Task<Socket> RawConnect(IPEndPoint endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint);
        return socket;
    }

    /// <summary>A connected pair of plain TCP sockets' streams (no listener logic in between).</summary>
    public static async Task<(NetworkStream Client, NetworkStream Server)> RawPair()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket server = await accept;
        server.NoDelay = true;
        return (new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    /// <summary>Two authenticated streams over a raw loopback pair.</summary>
    public static async Task<(OssuaryStream Client, OssuaryStream Server)> AuthenticatedPair(
        OssuaryClientOptions? clientOptions = null, OssuaryServerOptions? serverOptions = null)
    {
        var (clientInner, serverInner) = await RawPair();
        var client = new OssuaryStream(clientInner);
        var server = new OssuaryStream(serverInner);
        await Task.WhenAll(
            client.AuthenticateAsClientAsync(clientOptions ?? ClientOptions(), "loopback:1"),
            server.AuthenticateAsServerAsync(serverOptions ?? ServerOptions(), "loopback-client")).WaitAsync(Guard);
        return (client, server);
    }

    /// <summary>Reads until the peer's close; returns everything read.</summary>
    public static async Task<byte[]> ReadToEnd(Stream stream)
    {
        var all = new MemoryStream();
        byte[] buffer = new byte[65536];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            all.Write(buffer, 0, read);
        }
        return all.ToArray();
    }
}
