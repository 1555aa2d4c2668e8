using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Tests.Datagram.Simulation;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>The three handshake modes of datagram mode on a clean simulated link.</summary>
public sealed class DatagramHandshakeTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    internal static (SimulatedNetwork Network, SimulatedNode Client, SimulatedNode Server) Pair(int seed, Action<DatagramOptions>? server = null, Action<DatagramOptions>? client = null, LinkConditions? conditions = null)
    {
        var network = new SimulatedNetwork(seed, conditions);
        SimulatedNode c = network.AddNode("client", client);
        SimulatedNode s = network.AddNode("server", o =>
        {
            o.AcceptConnections = true;
            server?.Invoke(o);
        });
        return (network, c, s);
    }

    [Theory]
    [InlineData(OssuarySuite.ChaChaPolyBlake2b)]
    [InlineData(OssuarySuite.AesGcmSha256)]
    public void FirstContactXXAsksBothSidesAndCarriesDataBothWays(OssuarySuite suite)
    {
        var (network, client, server) = Pair(1, o => o.Suite = suite, o => o.Suite = suite);
        using var _ = network;
        var judged = new List<PeerIdentity>();
        client.Verifier = peer => { judged.Add(peer); return PeerVerdict.Accept(); };
        server.Verifier = peer => { judged.Add(peer); return PeerVerdict.Accept(); };

        DatagramHandle handle = client.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        Assert.Equal(DatagramSendResult.Queued, client.Endpoint.Send(handle, "held"u8, network.Now));
        Assert.True(network.RunUntil(() => server.Received.Count == 1, 2 * Second));

        Assert.Single(client.EventsOf(DatagramEventKind.Connected));
        DatagramHandle accepted = server.Accepted;
        Assert.Equal(2, judged.Count);
        Assert.Equal(server.Identity.PublicKey, judged[0].PublicKey);
        Assert.True(judged[0].PeerIsServer);
        Assert.Equal(client.Identity.PublicKey, judged[1].PublicKey);
        Assert.Equal("held"u8.ToArray(), server.Received[0].Payload);
        Assert.Equal(client.Identity.PublicKey, server.Endpoint.GetInfo(accepted).PeerKey);
        Assert.Equal(OssuaryHandshakePattern.XX, server.Endpoint.GetInfo(accepted).Pattern);

        Assert.Equal(DatagramSendResult.Sent, server.Endpoint.Send(accepted, "reply"u8, network.Now));
        Assert.True(network.RunUntil(() => client.Received.Count == 1, Second));
        Assert.Equal("reply"u8.ToArray(), client.Received[0].Payload);
        Assert.Equal(client.Address, server.Endpoint.GetInfo(accepted).Address);
        Assert.True(client.Endpoint.GetInfo(handle).SmoothedRtt > TimeSpan.Zero);
    }

    [Fact]
    public void ImmediateIKNeedsOneRoundTripAndDeliversOptInEarlyDataFlagged()
    {
        var (network, client, server) = Pair(2, o => o.AcceptEarlyData = true);
        using var _ = network;
        DatagramHandle handle = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now, "hello early"u8);
        TimeSpan started = network.Now;
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        Assert.Equal(TimeSpan.FromMilliseconds(40), network.Now - started); // one round trip of 2 × 20 ms
        Assert.Empty(server.Received); // held with the unconfirmed keys: no connection exists yet

        // The initiator's first packet under the keys confirms them: the connection is made, its early data first.
        Assert.True(network.RunUntil(() => server.Received.Count == 1, Second));
        Assert.Equal(TimeSpan.FromMilliseconds(60), network.Now - started);
        ReceivedDatagram early = Assert.Single(server.Received);
        Assert.Equal("hello early"u8.ToArray(), early.Payload);
        Assert.Equal(DatagramReceiveFlags.EarlyData, early.Flags);
        Assert.True(server.Endpoint.GetInfo(server.Accepted).EarlyDataUsed);

        client.Endpoint.Send(handle, "later"u8, network.Now);
        Assert.True(network.RunUntil(() => server.Received.Count == 2, Second));
        Assert.Equal(DatagramReceiveFlags.None, server.Received[1].Flags);
        Assert.Equal(1, server.Endpoint.Statistics.EarlyDataAccepted);
    }

    [Fact]
    public void EarlyDataIsRefusedUnlessTheListenerOptsIn()
    {
        var (network, client, server) = Pair(3);
        using var _ = network;
        DatagramHandle handle = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now, "not wanted"u8);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        client.Endpoint.Send(handle, "wanted"u8, network.Now);
        network.RunFor(Second);
        Assert.Equal(["wanted"u8.ToArray()], server.Received.Select(r => r.Payload));
        Assert.Equal(1, server.Endpoint.Statistics.EarlyDataRefused);
    }

    [Fact]
    public void ObtainPublicKeyTurnsFirstContactIntoIK()
    {
        var network = new SimulatedNetwork(4);
        using var _ = network;
        SimulatedNode server = network.AddNode("server", o => o.AcceptConnections = true);
        OssuaryPublicKey serverKey = server.Identity.PublicKey;
        byte[] serverAddress = server.Address;
        SimulatedNode client = network.AddNode("client", o => o.ObtainPublicKey = address => address.SequenceEqual(serverAddress) ? serverKey : null);
        DatagramHandle handle = client.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        Assert.Equal(OssuaryHandshakePattern.IK, client.Endpoint.GetInfo(handle).Pattern);
        Assert.Equal(DatagramPacketType.Initiation, network.Wire[0].Type);
        Assert.Equal((byte)OssuaryHandshakePattern.IK, network.Wire[0].Packet[2]);
    }

    [Fact]
    public void AnXXInitiatorWithAnExpectedKeyRefusesAnotherAndSendsNoFinish()
    {
        var (network, client, server) = Pair(5);
        using var _ = network;
        using OssuaryKeyPair other = OssuaryKeyPair.Generate();
        // XX with an expected key is what a fingerprint-pinned connect does: the key is checked, nothing is asked.
        DatagramHandle handle = client.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        client.Verifier = peer => peer.PublicKey == other.PublicKey ? PeerVerdict.Accept() : PeerVerdict.Reject("not the pinned key");
        network.RunFor(2 * Second);
        DatagramEvent closed = Assert.Single(client.EventsOf(DatagramEventKind.Closed));
        Assert.Equal(DatagramCloseReason.PeerRejected, closed.CloseReason);
        Assert.DoesNotContain(network.Wire, p => p.Type == DatagramPacketType.Finish);
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(1, client.Endpoint.Statistics.HandshakesRejected);
        Assert.Equal(DatagramSendResult.Closed, client.Endpoint.Send(handle, "x"u8, network.Now));
    }

    [Fact]
    public void AResponderThatRejectsAnIKKeyStaysSilent()
    {
        var (network, client, server) = Pair(6);
        using var _ = network;
        server.Verifier = _ => PeerVerdict.Reject("unknown client");
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        network.RunFor(4 * Second);
        Assert.DoesNotContain(network.Wire, p => p.Type == DatagramPacketType.Response);
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(2, client.Endpoint.Statistics.HandshakeRetransmissions);
        Assert.Equal(1, server.Endpoint.Statistics.HandshakesRejected);
        // The retransmissions repeat the rejected Initiation byte for byte: its timestamp is no longer new.
        Assert.Equal(2, server.Endpoint.Statistics.Dropped(DatagramDropReason.StaleTimestamp));
    }

    [Fact]
    public void AVerdictCanWaitAndTheHandshakeResumesWhenItComes()
    {
        var (network, client, server) = Pair(7);
        using var _ = network;
        server.Verifier = null; // the application decides later
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(500));
        DatagramHandle pending = Assert.Single(server.EventsOf(DatagramEventKind.VerificationRequired)).Handle;
        Assert.Equal(client.Identity.PublicKey, server.Endpoint.PeerToVerify(pending).PublicKey);
        Assert.DoesNotContain(network.Wire, p => p.Type == DatagramPacketType.Response);

        server.Endpoint.CompletePeerVerification(pending, PeerVerdict.Accept(), network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any() && server.EventsOf(DatagramEventKind.Accepted).Any(), 2 * Second));
        Assert.Equal(pending, server.Accepted);
        Assert.Throws<InvalidOperationException>(() => server.Endpoint.CompletePeerVerification(pending, PeerVerdict.Accept(), network.Now));
    }

    [Fact]
    public void CallerMistakesThrowStandardExceptions()
    {
        var (network, client, server) = Pair(8);
        using var _ = network;
        Assert.Throws<ArgumentException>(() => client.Endpoint.Connect([], null, network.Now));
        Assert.Throws<ArgumentException>(() => client.Endpoint.Connect(new byte[65], null, network.Now));
        Assert.Throws<ArgumentException>(() => client.Endpoint.Connect(server.Address, null, network.Now, "early"u8));
        Assert.Throws<ArgumentException>(() => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now, new byte[client.Endpoint.MaxEarlyDataSize + 1]));
        Assert.Throws<ArgumentException>(() => client.Endpoint.HandleDatagram(new byte[40], [], network.Now));
        Assert.Throws<ArgumentException>(() => client.Endpoint.GetInfo(new DatagramHandle(99)));
        Assert.Throws<InvalidOperationException>(() => client.Endpoint.PeerToVerify(new DatagramHandle(99)));
        Assert.Equal(DatagramSendResult.Closed, client.Endpoint.Send(new DatagramHandle(99), "x"u8, network.Now));
        Assert.Throws<ArgumentException>(() => new DatagramEndpoint(new DatagramOptions(), network.Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatagramEndpoint(new DatagramOptions { Identity = client.Identity, MaxDatagramSize = 1000 }, network.Now));
    }

    [Fact]
    public void SendRefusesADatagramLargerThanOnePacketCanCarry()
    {
        var (network, client, server) = Pair(9);
        using var _ = network;
        DatagramHandle handle = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        Assert.Equal(1200 - 33, client.Endpoint.MaxPayloadSize);
        Assert.Equal(DatagramSendResult.TooLarge, client.Endpoint.Send(handle, new byte[client.Endpoint.MaxPayloadSize + 1], network.Now));
        Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(handle, new byte[client.Endpoint.MaxPayloadSize], network.Now));
        network.RunFor(Second);
        Assert.Equal(client.Endpoint.MaxPayloadSize, Assert.Single(server.Received).Payload.Length);
        Assert.All(network.Wire, p => Assert.True(p.Packet.Length <= 1200));
    }

    [Fact]
    public void OneKeyMayHoldTwoConnectionsAndEachRekeysOnItsOwn()
    {
        var (network, client, server) = Pair(10);
        using var _ = network;
        DatagramHandle first = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(30));
        DatagramHandle second = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Count() == 2, Second));
        for (int i = 0; i < 130; i++)
        {
            client.Endpoint.Send(first, "one"u8, network.Now);
            client.Endpoint.Send(second, "two"u8, network.Now);
            network.RunFor(Second); // past 120 s: both rekey
        }
        DatagramHandle[] accepted = server.EventsOf(DatagramEventKind.Accepted).Select(e => e.Handle).ToArray();
        Assert.Equal(2, client.Endpoint.Statistics.Rekeys);
        Assert.Equal(2, server.Endpoint.Statistics.Rekeys);
        Assert.All(server.ReceivedOn(accepted[0]), p => Assert.Equal("one"u8.ToArray(), p));
        Assert.All(server.ReceivedOn(accepted[1]), p => Assert.Equal("two"u8.ToArray(), p));
        Assert.Equal(130, server.ReceivedOn(accepted[0]).Count());
        Assert.Equal(130, server.ReceivedOn(accepted[1]).Count());
    }

    [Fact]
    public void AnsweredHandshakesFreeTheirPlaceSoOneAddressCanOpenManyConnections()
    {
        var (network, client, server) = Pair(11);
        using var _ = network;
        for (int i = 0; i < 40; i++)
        {
            client.Endpoint.Connect(server.Address, peerKey: null, network.Now); // XX: no per-key rate
            network.RunFor(TimeSpan.FromMilliseconds(100));
        }
        network.RunFor(Second);
        Assert.Equal(40, server.EventsOf(DatagramEventKind.Accepted).Count());
        Assert.Equal(0, server.Endpoint.Statistics.Dropped(DatagramDropReason.TableFull));
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes); // 40 answered entries kept for duplicates, none open
    }
}
