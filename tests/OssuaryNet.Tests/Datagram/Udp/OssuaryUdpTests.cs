using System.Net;
using System.Security.Cryptography;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>Datagram mode over real UDP sockets on loopback, one test per feature of the wrapper.</summary>
public sealed class OssuaryUdpTests
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);
    private static readonly TimeSpan Patience = UdpPair.Patience;

    private static OssuaryUdpEndpoint Server(OssuaryKeyPair key, PeerVerifier? verifier = null, Action<DatagramOptions>? configure = null, IPEndPoint? at = null)
    {
        var options = new DatagramOptions { Identity = key, AcceptConnections = true };
        configure?.Invoke(options);
        return OssuaryUdpEndpoint.Bind(at ?? AnyLoopback, options, verifier ?? PeerVerifier.AcceptAny);
    }

    private static OssuaryUdpEndpoint Client(OssuaryKeyPair key, PeerVerifier? verifier = null, IPEndPoint? at = null) =>
        OssuaryUdpEndpoint.Bind(at ?? AnyLoopback, new DatagramOptions { Identity = key }, verifier);

    private static async Task<byte[]> Receive(OssuaryUdpConnection connection)
    {
        byte[] buffer = new byte[2048];
        DatagramReceiveResult result = await connection.ReceiveAsync(buffer).AsTask().WaitAsync(Patience);
        Assert.False(result.IsClosed, $"closed: {result.CloseReason}");
        return buffer[..result.Length];
    }

    [Fact]
    public async Task IKConnectsInOneRoundTripAndCarriesDatagramsBothWays()
    {
        await using UdpPair pair = await UdpPair.ConnectAsync();
        var (connection, accepted) = (pair.Connection, pair.Accepted);
        Assert.Equal(pair.ClientKey.PublicKey, accepted.PeerKey);
        Assert.Equal(pair.ServerKey.PublicKey.Fingerprint, connection.PeerFingerprint);

        await connection.SendAsync("ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await Receive(accepted));
        await accepted.SendAsync("pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await Receive(connection));
        Assert.Equal(pair.Client.LocalEndPoint, accepted.RemoteEndPoint);
        Assert.NotNull(connection.GetInfo().SmoothedRtt);
    }

    [Fact]
    public async Task DatagramsSentRightAfterAnXXConnectAllArriveWhenTheVerdictTakes200Milliseconds()
    {
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();
        PeerVerifier slow = PeerVerifier.FromAsyncCallback(async (peer, cancellationToken) =>
        {
            await Task.Delay(200, cancellationToken);
            return PeerVerdict.Accept();
        });
        await using OssuaryUdpEndpoint server = Server(serverKey, slow);
        await using OssuaryUdpEndpoint client = Client(clientKey, PeerVerifier.AcceptAny);
        OssuaryUdpConnection connection = await client.ConnectAsync(server.LocalEndPoint).WaitAsync(Patience);
        Assert.Equal(OssuaryHandshakePattern.XX, connection.Pattern);
        for (int i = 0; i < 50; i++)
        {
            await connection.SendAsync(new byte[] { (byte)i });
        }
        OssuaryUdpConnection accepted = await server.AcceptAsync().AsTask().WaitAsync(Patience);
        var received = new List<byte>();
        for (int i = 0; i < 50; i++)
        {
            received.Add((await Receive(accepted)).Single());
        }
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)i).Order(), received.Order());
        Assert.Equal(0, server.Statistics.Dropped(DatagramDropReason.UnknownSession));
        Assert.Equal(0, server.Statistics.TotalDropped);
    }

    [Fact]
    public async Task XXByFingerprintRefusesAnImpostor()
    {
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate(), other = OssuaryKeyPair.Generate();
        await using OssuaryUdpEndpoint server = Server(serverKey);
        await using OssuaryUdpEndpoint client = Client(clientKey);
        OssuaryUdpConnection good = await client.ConnectAsync(server.LocalEndPoint, serverKey.PublicKey.Fingerprint).WaitAsync(Patience);
        Assert.Equal(serverKey.PublicKey, good.PeerKey);
        var refused = await Assert.ThrowsAsync<OssuaryException>(() => client.ConnectAsync(server.LocalEndPoint, other.PublicKey.Fingerprint).WaitAsync(Patience));
        Assert.Equal(OssuaryErrorCode.PeerRejected, refused.ErrorCode);
        Assert.Contains(other.PublicKey.Fingerprint, refused.Message);
    }

    [Fact]
    public async Task KnownHostsTrustsOnFirstUseThenUsesIKAndRefusesAChangedKey()
    {
        string directory = Directory.CreateTempSubdirectory("ossuary-udp-").FullName;
        try
        {
            string knownHosts = Path.Combine(directory, "known_hosts");
            using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate(), impostorKey = OssuaryKeyPair.Generate();
            IPEndPoint serverAt;
            await using (OssuaryUdpEndpoint server = Server(serverKey))
            {
                serverAt = server.LocalEndPoint;
                await using OssuaryUdpEndpoint client = Client(clientKey, new KnownHosts(knownHosts));
                OssuaryUdpConnection first = await client.ConnectAsync(serverAt).WaitAsync(Patience);
                Assert.Equal(OssuaryHandshakePattern.XX, first.GetInfo().Pattern);
                OssuaryUdpConnection second = await client.ConnectAsync(serverAt).WaitAsync(Patience);
                Assert.Equal(OssuaryHandshakePattern.IK, second.GetInfo().Pattern); // the recorded key
            }
            // Another key at the same address: IK to the recorded key goes unanswered (its mac1 names another key),
            // so after a moment an XX handshake asks, and the known-hosts file calls it a key change.
            await using OssuaryUdpEndpoint impostor = Server(impostorKey, at: serverAt);
            await using OssuaryUdpEndpoint again = Client(clientKey, new KnownHosts(knownHosts));
            var changed = await Assert.ThrowsAsync<OssuaryException>(() => again.ConnectAsync(serverAt).WaitAsync(Patience));
            Assert.Equal(OssuaryErrorCode.PeerKeyChanged, changed.ErrorCode);
            Assert.True(impostor.Statistics.Dropped(DatagramDropReason.BadMac1) >= 1);
            Assert.Equal(0, impostor.Statistics.HandshakesCompleted);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task CookiesForcedOnStillConnect()
    {
        await using UdpPair pair = await UdpPair.ConnectAsync(o => o.AddressValidation = DatagramAddressValidation.Always);
        Assert.Equal(1, pair.Server.Statistics.CookieRepliesSent);
        Assert.Equal(1, pair.Server.Statistics.TokensAccepted);
        Assert.True(pair.Connection.GetInfo().IsEstablished);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EarlyDataIsDeliveredFlaggedOnlyWhenTheListenerAcceptsIt(bool accept)
    {
        await using UdpPair pair = await UdpPair.ConnectAsync(o => o.AcceptEarlyData = accept, "early"u8.ToArray());
        var (connection, accepted) = (pair.Connection, pair.Accepted);
        await connection.SendAsync("later"u8.ToArray());
        byte[] buffer = new byte[100];
        DatagramReceiveResult first = await accepted.ReceiveAsync(buffer).AsTask().WaitAsync(Patience);
        if (accept)
        {
            Assert.Equal(("early", DatagramReceiveFlags.EarlyData), (System.Text.Encoding.ASCII.GetString(buffer, 0, first.Length), first.Flags));
            first = await accepted.ReceiveAsync(buffer).AsTask().WaitAsync(Patience);
        }
        Assert.Equal(("later", DatagramReceiveFlags.None), (System.Text.Encoding.ASCII.GetString(buffer, 0, first.Length), first.Flags));
        Assert.Equal(accept ? 0 : 1, pair.Server.Statistics.EarlyDataRefused);
    }

    [Fact]
    public async Task AClientThatRebindsToANewPortIsFollowed()
    {
        await using UdpPair pair = await UdpPair.ConnectAsync();
        var (client, connection, accepted) = (pair.Client, pair.Connection, pair.Accepted);
        var moved = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        accepted.PeerMoved += (_, to) => moved.TrySetResult(to);
        await connection.SendAsync("before"u8.ToArray());
        Assert.Equal("before"u8.ToArray(), await Receive(accepted));

        IPEndPoint oldPort = client.LocalEndPoint;
        client.Rebind();
        Assert.NotEqual(oldPort, client.LocalEndPoint);
        await connection.SendAsync("after"u8.ToArray());
        Assert.Equal("after"u8.ToArray(), await Receive(accepted));
        Assert.Equal(client.LocalEndPoint, await moved.Task.WaitAsync(Patience));
        await accepted.SendAsync("found you"u8.ToArray());
        Assert.Equal("found you"u8.ToArray(), await Receive(connection));
        // The client's path response may still be on its way: wait for it.
        for (int i = 0; i < 100 && !accepted.GetInfo().AddressValidated; i++)
        {
            await Task.Delay(50);
        }
        Assert.True(accepted.GetInfo().AddressValidated);
    }

    [Fact]
    public async Task ACloseReachesThePeer()
    {
        await using UdpPair pair = await UdpPair.ConnectAsync();
        var (connection, accepted) = (pair.Connection, pair.Accepted);
        connection.Close(7);
        DatagramReceiveResult result = await accepted.ReceiveAsync(new byte[10]).AsTask().WaitAsync(Patience);
        Assert.True(result.IsClosed);
        Assert.Equal((DatagramCloseReason.ByPeer, (ushort)7), (result.CloseReason, result.PeerCloseCode));
        await Assert.ThrowsAsync<InvalidOperationException>(() => connection.SendAsync("x"u8.ToArray()).AsTask());
    }

    [Fact]
    public async Task ARejectedClientGetsNoConnectionAndTheListenerCountsIt()
    {
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();
        await using OssuaryUdpEndpoint server = Server(serverKey, PeerVerifier.FromCallback(_ => PeerVerdict.Reject("not on the list")));
        await using OssuaryUdpEndpoint client = Client(clientKey);
        _ = client.ConnectAsync(server.LocalEndPoint, serverKey.PublicKey);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.AcceptAsync(cancel.Token).AsTask());
        Assert.True(server.Statistics.HandshakesRejected >= 1);
        Assert.Equal(0, server.Statistics.PacketsOut(2)); // silence: no Response
    }

    [Fact]
    public async Task DualModeServesIPv4AndIPv6()
    {
        using OssuaryKeyPair serverKey = OssuaryKeyPair.Generate(), clientKey = OssuaryKeyPair.Generate();
        await using OssuaryUdpEndpoint server = Server(serverKey, at: new IPEndPoint(IPAddress.IPv6Any, 0));
        int port = server.LocalEndPoint.Port;
        await using OssuaryUdpEndpoint v4 = Client(clientKey);
        await using OssuaryUdpEndpoint v6 = Client(clientKey, at: new IPEndPoint(IPAddress.IPv6Loopback, 0));
        OssuaryUdpConnection a = await v4.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), serverKey.PublicKey).WaitAsync(Patience);
        OssuaryUdpConnection b = await v6.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), serverKey.PublicKey).WaitAsync(Patience);
        await a.SendAsync("v4"u8.ToArray());
        await b.SendAsync("v6"u8.ToArray());
        OssuaryUdpConnection first = await server.AcceptAsync().AsTask().WaitAsync(Patience);
        OssuaryUdpConnection second = await server.AcceptAsync().AsTask().WaitAsync(Patience);
        string[] got = [System.Text.Encoding.ASCII.GetString(await Receive(first)), System.Text.Encoding.ASCII.GetString(await Receive(second))];
        Assert.Equal(["v4", "v6"], got.Order());
    }
}
