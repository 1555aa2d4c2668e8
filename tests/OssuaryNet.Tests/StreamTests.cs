using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

public sealed class StreamTests
{
    [Fact]
    public async Task TwoHundredFiftySixMiBEachWayAtOnceWithRandomWriteSizes()
    {
        // Full duplex: the reader opens records while the writer seals them, on two cores, with no lock between.
        const long total = 256L << 20;
        var (client, server) = await Loopback.AuthenticatedPair();
        await using (client)
        await using (server)
        {
            Task<byte[]> clientSent = SendRandom(client, total, seed: 1);
            Task<byte[]> serverSent = SendRandom(server, total, seed: 2);
            Task<(long, byte[])> serverReceived = HashUntilClose(server);
            Task<(long, byte[])> clientReceived = HashUntilClose(client);
            await Task.WhenAll(clientSent, serverSent, serverReceived, clientReceived).WaitAsync(TimeSpan.FromMinutes(5));
            var (serverCount, serverHash) = await serverReceived;
            var (clientCount, clientHash) = await clientReceived;
            Assert.Equal(total, serverCount);
            Assert.Equal(total, clientCount);
            Assert.Equal(Convert.ToHexString(await clientSent), Convert.ToHexString(serverHash));
            Assert.Equal(Convert.ToHexString(await serverSent), Convert.ToHexString(clientHash));
        }
    }

    private static async Task<byte[]> SendRandom(OssuaryStream stream, long total, int seed)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[200_000];
        for (long sent = 0; sent < total;)
        {
            int size = (int)Math.Min(random.Next(1, buffer.Length), total - sent);
            random.NextBytes(buffer.AsSpan(0, size));
            hash.AppendData(buffer, 0, size);
            await stream.WriteAsync(buffer.AsMemory(0, size));
            sent += size;
        }
        await stream.ShutdownAsync();
        return hash.GetHashAndReset();
    }

    private static async Task<(long, byte[])> HashUntilClose(OssuaryStream stream)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[50_000];
        long received = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            received += read;
        }
        return (received, hash.GetHashAndReset());
    }

    [Fact]
    public async Task TwoHundredConcurrentConnectionsThroughOneListener()
    {
        await using OssuaryListener listener = Loopback.Listen(maxPending: 32);
        using var stop = new CancellationTokenSource();
        Task server = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (int i = 0; i < 200; i++)
            {
                OssuaryStream accepted = await listener.AcceptAsync(stop.Token);
                echoes.Add(Task.Run(async () =>
                {
                    await using (accepted)
                    {
                        byte[] data = await Loopback.ReadToEnd(accepted);
                        await accepted.WriteAsync(data);
                        await accepted.ShutdownAsync();
                    }
                }));
            }
            await Task.WhenAll(echoes);
        });
        var clients = Enumerable.Range(0, 200).Select(async i =>
        {
            byte[] data = RandomNumberGenerator.GetBytes(1000 + i * 97);
            await using OssuaryStream stream = await Loopback.Connect(listener);
            await stream.WriteAsync(data);
            await stream.ShutdownAsync();
            Assert.Equal(data, await Loopback.ReadToEnd(stream));
        }).ToList();
        await Task.WhenAll(clients).WaitAsync(Loopback.Guard);
        await server.WaitAsync(Loopback.Guard);
        Assert.Equal(0, listener.FailedHandshakes);
    }

    [Fact]
    public async Task WrongPinnedKeyFailsBothSidesClearly()
    {
        var serverError = new TaskCompletionSource<Exception>();
        await using OssuaryListener listener = Loopback.Listen(failed: (e, _) => serverError.TrySetResult(e));
        var options = Loopback.ClientOptions(PeerVerifier.AcceptAny);
        options.ServerKey = TestKeys.Other.PublicKey;
        var error = await Assert.ThrowsAsync<OssuaryException>(() => Loopback.Connect(listener, options)).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, Assert.IsType<OssuaryException>(await serverError.Task.WaitAsync(Loopback.Guard)).ErrorCode);
    }

    [Fact]
    public async Task RejectedClientFailsBothSidesClearly()
    {
        var serverError = new TaskCompletionSource<Exception>();
        await using OssuaryListener listener = Loopback.Listen(Loopback.ServerOptions(PeerVerifier.Pinned(TestKeys.Other.PublicKey)), failed: (e, _) => serverError.TrySetResult(e));
        // In XX the client has finished its part before the server judges it, so it learns of the rejection at its next read.
        await using OssuaryStream stream = await Loopback.Connect(listener).WaitAsync(Loopback.Guard);
        var error = await Assert.ThrowsAsync<OssuaryException>(() => stream.ReadAsync(new byte[10]).AsTask()).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.PeerRejected, error.ErrorCode);
        var local = Assert.IsType<OssuaryException>(await serverError.Task.WaitAsync(Loopback.Guard));
        Assert.Equal(OssuaryErrorCode.PeerRejected, local.ErrorCode);
        Assert.Contains(TestKeys.Client.PublicKey.Fingerprint, local.Message);
    }

    [Fact]
    public async Task KeyChangeUnderTofuIsRefusedAndTheConnectHelperPinsKnownHosts()
    {
        string knownHostsPath = Path.Combine(Directory.CreateTempSubdirectory("ossuary-").FullName, "known_hosts");
        var knownHosts = new KnownHosts(knownHostsPath);
        await using (OssuaryListener first = Loopback.Listen(Loopback.ServerOptions(PeerVerifier.AcceptAny)))
        {
            await using (OssuaryStream stream = await Loopback.Connect(first, Loopback.ClientOptions(knownHosts)))
            {
                Assert.Equal(OssuaryHandshakePattern.XX, stream.Pattern);
            }
            await using (OssuaryStream again = await Loopback.Connect(first, Loopback.ClientOptions(knownHosts)))
            {
                Assert.Equal(OssuaryHandshakePattern.IK, again.Pattern); // the recorded key was pinned
            }
            // Same endpoint name, another server key: AuthenticateAsClientAsync pins the recorded key too (the policy is
            // the core's), so the impostor cannot even complete the IK handshake.
            var impostorOptions = Loopback.ServerOptions(PeerVerifier.AcceptAny);
            impostorOptions.StaticKeyPair = TestKeys.Other;
            var (clientInner, serverInner) = await Loopback.RawPair();
            await using var client = new OssuaryStream(clientInner);
            await using var impostor = new OssuaryStream(serverInner);
            Task serverSide = impostor.AuthenticateAsServerAsync(impostorOptions);
            var error = await Assert.ThrowsAsync<OssuaryException>(() =>
                client.AuthenticateAsClientAsync(Loopback.ClientOptions(knownHosts), $"127.0.0.1:{first.LocalEndpoint.Port}")).WaitAsync(Loopback.Guard);
            Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
            Assert.Equal(OssuaryHandshakePattern.IK, client.Pattern);
            Assert.Equal(OssuaryErrorCode.AuthenticationFailed, (await Assert.ThrowsAsync<OssuaryException>(() => serverSide).WaitAsync(Loopback.Guard)).ErrorCode);
        }
    }

    [Fact]
    public async Task PeerDyingMidRecordIsTruncation()
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        await using var server = new OssuaryStream(serverInner);
        Task auth = server.AuthenticateAsServerAsync(Loopback.ServerOptions());
        using OssuaryConnection client = await RawHandshake(clientInner);
        byte[] wire = new byte[2000];
        client.Send(new byte[1000], wire, out _, out int written);
        await clientInner.WriteAsync(wire.AsMemory(0, written / 2));
        await auth.WaitAsync(Loopback.Guard);
        clientInner.Socket.Shutdown(SocketShutdown.Both);
        var error = await Assert.ThrowsAsync<OssuaryException>(() => Loopback.ReadToEnd(server)).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.Truncated, error.ErrorCode);
        clientInner.Dispose();
    }

    [Fact]
    public async Task PeerClosingWithoutShutdownIsTruncationNotACleanEnd()
    {
        var (client, server) = await Loopback.AuthenticatedPair();
        await client.WriteAsync("complete record"u8.ToArray());
        await client.DisposeAsync();
        var error = await Assert.ThrowsAsync<OssuaryException>(() => Loopback.ReadToEnd(server)).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.Truncated, error.ErrorCode);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task PeerDyingMidHandshakeFailsTheServerHandshake()
    {
        var serverError = new TaskCompletionSource<Exception>();
        await using OssuaryListener listener = Loopback.Listen(failed: (e, _) => serverError.TrySetResult(e));
        using var client = OssuaryConnection.CreateClient(Loopback.ClientOptions());
        byte[] hello = HandshakeTests.Drain(client);
        using (Socket socket = await Loopback.RawConnect(listener.LocalEndpoint))
        {
            await socket.SendAsync(hello.AsMemory(0, 20));
        }
        var error = Assert.IsType<OssuaryException>(await serverError.Task.WaitAsync(Loopback.Guard));
        Assert.Equal(OssuaryErrorCode.Truncated, error.ErrorCode);
    }

    [Fact]
    public async Task SilentClientsAreDroppedOrTimedOutAndCannotStarveTheListener()
    {
        int timeouts = 0;
        await using OssuaryListener listener = Loopback.Listen(maxPending: 2, timeout: TimeSpan.FromMilliseconds(300), failed: (e, _) =>
        {
            if (e is OssuaryException { ErrorCode: OssuaryErrorCode.HandshakeTimeout })
            {
                Interlocked.Increment(ref timeouts);
            }
        });
        var silent = new List<Socket>();
        for (int i = 0; i < 4; i++)
        {
            silent.Add(await Loopback.RawConnect(listener.LocalEndpoint));
        }
        // Both handshake slots are held by silent clients; the real client gets through once they stall (and are
        // dropped for it) or time out.
        await using (OssuaryStream stream = await Loopback.Connect(listener).WaitAsync(Loopback.Guard))
        {
            OssuaryStream accepted = await listener.AcceptAsync().AsTask().WaitAsync(Loopback.Guard);
            await accepted.DisposeAsync();
        }
        long gone = Volatile.Read(ref timeouts) + listener.DroppedHandshakes;
        Assert.True(gone >= 2, $"expected the silent clients to be dropped or to time out, saw {gone}");
        silent.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task ASilentServerHitsTheClientHandshakeTimeout()
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        await using var client = new OssuaryStream(clientInner) { HandshakeTimeout = TimeSpan.FromMilliseconds(200) };
        var error = await Assert.ThrowsAsync<OssuaryException>(() => client.AuthenticateAsClientAsync(Loopback.ClientOptions())).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.HandshakeTimeout, error.ErrorCode);
        serverInner.Dispose();
    }

    [Fact]
    public async Task ASilentServerHitsTheSyncClientHandshakeTimeout()
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        using var client = new OssuaryStream(clientInner) { HandshakeTimeout = TimeSpan.FromMilliseconds(200) };
        var error = await Task.Run(() => Assert.Throws<OssuaryException>(() => client.AuthenticateAsClient(Loopback.ClientOptions()))).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.HandshakeTimeout, error.ErrorCode);
        serverInner.Dispose();
    }

    [Fact]
    public async Task AGarbageClientIsRefusedWithATypedError()
    {
        var serverError = new TaskCompletionSource<Exception>();
        await using OssuaryListener listener = Loopback.Listen(failed: (e, _) => serverError.TrySetResult(e));
        using (Socket socket = await Loopback.RawConnect(listener.LocalEndpoint))
        {
            await socket.SendAsync((byte[])[0, 12, .. "SSH-2.0-junk"u8]);
            var error = Assert.IsType<OssuaryException>(await serverError.Task.WaitAsync(Loopback.Guard));
            Assert.Equal(OssuaryErrorCode.MalformedHandshake, error.ErrorCode);
            // The server answered with an alert and closed.
            byte[] reply = new byte[16];
            int read = await socket.ReceiveAsync(reply);
            Assert.Equal(new byte[] { 0, 2, 0x15, (byte)OssuaryErrorCode.MalformedHandshake }, reply[..read]);
        }
    }

    [Fact]
    public async Task CancellingAReadLeavesTheStreamUsable()
    {
        var (client, server) = await Loopback.AuthenticatedPair();
        await using (client)
        await using (server)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ReadAsync(new byte[10], cancel.Token).AsTask()).WaitAsync(Loopback.Guard);
            await server.WriteAsync("after the cancel"u8.ToArray());
            byte[] buffer = new byte[100];
            int read = await client.ReadAsync(buffer).AsTask().WaitAsync(Loopback.Guard);
            Assert.Equal("after the cancel"u8.ToArray(), buffer[..read]);
        }
    }

    [Fact]
    public async Task CancellingAWriteMidRecordClosesTheWriteSideAndThePeerNeverSeesCorruptData()
    {
        var (client, server) = await Loopback.AuthenticatedPair();
        await using (client)
        await using (server)
        {
            // The server does not read, so the socket buffers fill and the write blocks inside a record.
            byte[] big = new byte[64 << 20];
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.WriteAsync(big, cancel.Token).AsTask()).WaitAsync(Loopback.Guard);
            Assert.False(client.CanWrite);
            await Assert.ThrowsAsync<InvalidOperationException>(() => client.WriteAsync(new byte[1]).AsTask());
            client.InnerStream.Dispose();
            // The peer gets a prefix of zeros and then a clear error: never a clean end, never altered bytes.
            byte[] buffer = new byte[65536];
            long received = 0;
            var error = await Assert.ThrowsAsync<OssuaryException>(async () =>
            {
                int read;
                while ((read = await server.ReadAsync(buffer)) > 0)
                {
                    Assert.True(buffer.AsSpan(0, read).IndexOfAnyExcept((byte)0) < 0);
                    received += read;
                }
            }).WaitAsync(Loopback.Guard);
            Assert.True(error.ErrorCode is OssuaryErrorCode.Truncated or OssuaryErrorCode.AuthenticationFailed);
            Assert.True(received < big.Length);
        }
    }

    [Fact]
    public async Task StreamContract()
    {
        var (client, server) = await Loopback.AuthenticatedPair();
        Assert.True(client.CanRead && client.CanWrite && !client.CanSeek);
        Assert.True(client.IsAuthenticated);
        Assert.Throws<NotSupportedException>(() => client.Length);
        Assert.Throws<NotSupportedException>(() => client.Position);
        Assert.Throws<NotSupportedException>(() => client.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => client.SetLength(1));
        Assert.Equal(TestKeys.Server.PublicKey, client.RemotePublicKey);
        Assert.Equal(TestKeys.Client.PublicKey, server.RemotePublicKey);
        Assert.Equal(client.HandshakeHash, server.HandshakeHash);
        Assert.Equal("Noise_XX_25519_ChaChaPoly_BLAKE2b", server.NoiseProtocolName);

        // Zero-length writes send nothing; zero-length reads return 0 at once without consuming anything.
        await client.WriteAsync(Array.Empty<byte>());
        Assert.Equal(0, await server.ReadAsync(Memory<byte>.Empty));
        await client.WriteAsync("x"u8.ToArray());
        byte[] one = new byte[1];
        Assert.Equal(1, await server.ReadAsync(one));

        // A second concurrent read is refused.
        Task<int> pending = server.ReadAsync(new byte[10]).AsTask();
        await Task.Delay(50);
        await Assert.ThrowsAsync<NotSupportedException>(() => server.ReadAsync(new byte[10]).AsTask());
        await client.ShutdownAsync();
        Assert.Equal(0, await pending.WaitAsync(Loopback.Guard));
        Assert.Equal(0, await server.ReadAsync(new byte[10])); // still 0 after the close

        await client.DisposeAsync();
        Assert.False(client.CanRead || client.CanWrite);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ReadAsync(new byte[1]).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.WriteAsync(new byte[1]).AsTask());
        await server.DisposeAsync();
    }

    [Fact]
    public async Task UseBeforeAuthenticationIsRefused()
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        await using var client = new OssuaryStream(clientInner);
        Assert.False(client.CanRead);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.ReadAsync(new byte[1]).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.WriteAsync(new byte[1]).AsTask());
        serverInner.Dispose();
    }

    [Fact]
    public async Task SynchronousApiWorksEndToEnd()
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        using var client = new OssuaryStream(clientInner);
        using var server = new OssuaryStream(serverInner);
        Task serverSide = Task.Run(() =>
        {
            server.AuthenticateAsServer(Loopback.ServerOptions());
            byte[] buffer = new byte[100];
            int read = server.Read(buffer, 0, buffer.Length);
            server.Write(buffer, 0, read);
            server.Shutdown();
        });
        client.AuthenticateAsClient(Loopback.ClientOptions(), "sync:1");
        client.Write("ping"u8);
        byte[] reply = new byte[10];
        int n = client.Read(reply.AsSpan());
        Assert.Equal("ping"u8.ToArray(), reply[..n]);
        Assert.Equal(0, client.Read(reply.AsSpan()));
        await serverSide.WaitAsync(Loopback.Guard);
    }

    [Fact]
    public async Task LeaveInnerStreamOpenIsHonoured()
    {
        var (clientInner, serverInner) = await Loopback.RawPair();
        var client = new OssuaryStream(clientInner, leaveInnerStreamOpen: true);
        await client.DisposeAsync();
        await clientInner.WriteAsync(new byte[] { 1 }); // still usable
        var closing = new OssuaryStream(serverInner, leaveInnerStreamOpen: false);
        await closing.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => serverInner.Write(new byte[1]));
        clientInner.Dispose();
    }

    /// <summary>Completes a client handshake by hand over <paramref name="stream"/>, for tests that then misbehave.</summary>
    private static async Task<OssuaryConnection> RawHandshake(NetworkStream stream)
    {
        var client = OssuaryConnection.CreateClient(Loopback.ClientOptions());
        byte[] buffer = new byte[4096];
        while (client.State == OssuaryConnectionState.Handshaking)
        {
            byte[] output = HandshakeTests.Drain(client);
            await stream.WriteAsync(output);
            if (client.State != OssuaryConnectionState.Handshaking)
            {
                break;
            }
            int read = await stream.ReadAsync(buffer);
            client.Receive(buffer.AsSpan(0, read), default, out _, out _);
            client.VerifyPendingPeer();
        }
        await stream.WriteAsync(HandshakeTests.Drain(client));
        return client;
    }

    [Fact]
    public async Task CodeWrittenForSslStreamCatchesOssuaryFailuresAsIOException()
    {
        var (client, server) = await Loopback.AuthenticatedPair();
        await using (server)
        {
            await client.DisposeAsync(); // the transport ends without an authenticated close
            IOException error = await Assert.ThrowsAnyAsync<IOException>(async () => _ = await server.ReadAsync(new byte[10]));
            Assert.Equal(OssuaryErrorCode.Truncated, Assert.IsType<OssuaryException>(error).ErrorCode);
        }
    }
}
