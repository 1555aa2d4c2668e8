using System.Diagnostics;
using System.Net;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>Idle timeouts and keep-alive pings on real loopback sockets.</summary>
public sealed class LivenessTests
{
    private static async Task<(OssuaryStream Client, OssuaryStream Server)> Pair(Action<OssuaryStream> client, Action<OssuaryStream> server)
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        var c = new OssuaryStream(clientInner);
        var s = new OssuaryStream(serverInner);
        client(c);
        server(s);
        await Task.WhenAll(
            c.AuthenticateAsClientAsync(Loopback.ClientOptions(), "loopback:1"),
            s.AuthenticateAsServerAsync(Loopback.ServerOptions(), "loopback-client")).WaitAsync(Loopback.Guard);
        return (c, s);
    }

    [Fact]
    public async Task ASilentPeerEndsReadsAndWritesWithIdleTimeout()
    {
        var (client, server) = await Pair(_ => { }, s => s.IdleTimeout = TimeSpan.FromMilliseconds(300));
        await using (client)
        await using (server)
        {
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<OssuaryException>(async () => await server.ReadAsync(new byte[10]).AsTask().WaitAsync(Loopback.Guard));
            Assert.Equal(OssuaryErrorCode.IdleTimeout, error.ErrorCode);
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"timed out after {clock.ElapsedMilliseconds} ms");
            var writeError = await Assert.ThrowsAsync<OssuaryException>(async () => await server.WriteAsync(new byte[10]));
            Assert.Equal(OssuaryErrorCode.IdleTimeout, writeError.ErrorCode);
        }
    }

    [Fact]
    public async Task KeepAlivePingsKeepAQuietButLivePeerConnected()
    {
        var (client, server) = await Pair(c => c.KeepAliveInterval = TimeSpan.FromMilliseconds(100), s => s.IdleTimeout = TimeSpan.FromMilliseconds(500));
        await using (client)
        await using (server)
        {
            byte[] buffer = new byte[10];
            Task<int> serverRead = server.ReadAsync(buffer).AsTask();
            Task<int> clientRead = client.ReadAsync(new byte[10]).AsTask(); // consumes the pongs
            await Task.Delay(1500);
            Assert.False(serverRead.IsCompleted, $"the server's read ended although the client kept pinging: {serverRead.Exception}");
            await client.WriteAsync("hi"u8.ToArray());
            Assert.Equal(2, await serverRead.WaitAsync(Loopback.Guard));
            Assert.Equal("hi"u8.ToArray(), buffer[..2]);
            Assert.True(client.Connection!.PongsReceived >= 3, $"pongs received: {client.Connection.PongsReceived}");
            Assert.False(clientRead.IsCompleted);
        }
    }

    [Fact]
    public async Task TheListenerGivesEachConnectionItsIdleTimeout()
    {
        await using var listener = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, 0), Loopback.ServerOptions()) { IdleTimeout = TimeSpan.FromMilliseconds(300) };
        listener.Start();
        await using OssuaryStream client = await Loopback.Connect(listener);
        await using OssuaryStream accepted = await listener.AcceptAsync().AsTask().WaitAsync(Loopback.Guard);
        var error = await Assert.ThrowsAsync<OssuaryException>(async () => await accepted.ReadAsync(new byte[10]).AsTask().WaitAsync(Loopback.Guard));
        Assert.Equal(OssuaryErrorCode.IdleTimeout, error.ErrorCode);
    }
}
