using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Tests.Datagram.Simulation;
using OssuaryNet.Trust;
using Xunit;
using Xunit.Abstractions;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram.Admission;

/// <summary>
/// What a stranger can make a responder hold: before a packet under the new keys proves that the peer holds them and
/// receives at its address, nothing but a half-open entry (bounded in total and per source); after, connections
/// bounded per source and per key, and silent ones give their place to newcomers and are closed long before the idle timer.
/// </summary>
public sealed class DatagramAdmissionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void AnIkConnectionWhoseKeysNoPacketConfirmsIsNeverAccepted()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(900);
        using var _n = network;
        // The initiator gets its Response but nothing it sends under the new keys reaches the responder.
        network.Tap = p => !p.IsDataTo(server);
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        DatagramHandle pending = Assert.Single(server.EventsOf(DatagramEventKind.VerificationRequired)).Handle;
        network.RunFor(TimeSpan.FromSeconds(10));
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(0, server.Endpoint.Statistics.Connections);
        Assert.Equal(1, server.Endpoint.Statistics.HalfOpenHandshakes); // still open: it counts against the caps
        Assert.Throws<ArgumentException>(() => server.Endpoint.GetInfo(pending));
        // The initiator repeats its confirmation (a keepalive, on the Finish's schedule) while the responder may hold the handshake.
        Assert.InRange(network.Wire.Count(p => p.IsDataTo(server)), 4, 5);

        network.RunFor(TimeSpan.FromSeconds(6)); // past the 15 s half-open lifetime
        DatagramEvent closed = Assert.Single(server.EventsOf(DatagramEventKind.Closed));
        Assert.Equal((pending, DatagramCloseReason.HandshakeTimedOut), (closed.Handle, closed.CloseReason));
        Assert.Equal(1, server.Endpoint.Statistics.HandshakesUnconfirmed);
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
    }

    [Fact]
    public void ALostConfirmationIsRepeatedUntilTheResponderAnswersUnderTheNewKeys()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(901);
        using var _n = network;
        int held = 0;
        network.Tap = p => !(p.IsDataTo(server) && held++ < 2); // the first keepalive and its first repeat are lost
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Any(), 5 * Second));
        network.RunFor(TimeSpan.FromSeconds(20));
        // Three keepalives from the initiator (two lost), one answer from the responder, then silence.
        Assert.Equal(3, network.Wire.Count(p => p.IsDataTo(server)));
        Assert.Equal(1, network.Wire.Count(p => p.IsDataTo(client)));
        Assert.Equal(1, client.Endpoint.Statistics.HandshakesStarted);
    }

    [Fact]
    public void ASpoofedIkSprayAtAnyRateHoldsAtMostTheHalfOpenBudgetAndTurnsOnCookies()
    {
        var (network, _, server) = DatagramHandshakeTests.Pair(902, o => o.AcceptEarlyData = true);
        using var _n = network;
        var random = new Random(902);
        // Thirty keys the responder accepts, sending 800 Initiations a second from addresses that never answer.
        DatagramEndpoint[] attackers = Enumerable.Range(0, 30).Select(i => new DatagramEndpoint(new DatagramOptions { Identity = OssuaryKeyPair.Generate() }, network.Now)).ToArray();
        byte[] packet = new byte[1200], address = new byte[64];
        for (int i = 0; i < 8000; i++)
        {
            DatagramEndpoint attacker = attackers[i % attackers.Length];
            attacker.Connect(server.Address, server.Identity.PublicKey, network.Now, "early"u8);
            while (attacker.TryPollTransmit(packet, address, out int length, out _))
            {
                byte[] spoofed = new byte[4];
                random.NextBytes(spoofed);
                server.Endpoint.HandleDatagram(packet.AsSpan(0, length), spoofed, network.Now);
            }
            network.RunFor(TimeSpan.FromMilliseconds(1.25));
        }
        network.RunFor(Second);
        DatagramStatistics stats = server.Endpoint.Statistics;
        output.WriteLine($"8000 spoofed IK Initiations: {server.EventsOf(DatagramEventKind.VerificationRequired).Count()} verification requests, "
            + $"{stats.CookieRepliesSent} cookie replies, {stats.Connections} connections, {stats.TimesUnderLoad} times under load");
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Empty(server.Received);
        Assert.Equal(0, stats.Connections);
        Assert.True(stats.TimesUnderLoad >= 1);
        Assert.True(stats.CookieRepliesSent > 4000, $"{stats.CookieRepliesSent} cookie replies");
        // The half-open entries ever made stay near the load threshold (an eighth of 4096), nowhere near the spray.
        Assert.InRange(server.EventsOf(DatagramEventKind.VerificationRequired).Count(), 1, 4096 / 8 + 100);
        foreach (DatagramEndpoint attacker in attackers)
        {
            attacker.Dispose();
        }

        // A genuine client still gets in (through a cookie while the load lasts).
        SimulatedNode genuine = network.AddNode("genuine");
        DatagramHandle handle = genuine.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Any(), 5 * Second));
        genuine.Endpoint.Send(handle, "hello"u8, network.Now);
        Assert.True(network.RunUntil(() => server.Received.Count == 1, Second));
    }

    [Fact]
    public void OneHostWithAPermissiveVerifierCannotLockNewcomersOut()
    {
        // MaxConnections scaled down to 200; the default share of one source is a quarter of it.
        var (network, _, server) = DatagramHandshakeTests.Pair(903, o => (o.AddressFormat, o.MaxConnections) = (DatagramAddressFormat.SocketAddress, 200));
        using var _n = network;
        // One host (10.0.0.1, many ports), a fresh key for every 40 connections, 40 handshakes a second, never a datagram.
        var attackers = Enumerable.Range(0, 10).Select(i =>
        {
            SimulatedNode node = network.AddNode($"attacker {i}");
            node.Address = SocketAddresses.Of("10.0.0.1", 2000 + i);
            return node;
        }).ToArray();
        for (int i = 0; i < 400; i++)
        {
            attackers[i / 40].Endpoint.Connect(server.Address, peerKey: null, network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(25));
        }
        network.RunFor(Second);
        // The host holds at most its share; its newer handshakes only replace its own older silent connections.
        output.WriteLine($"one host, 400 handshakes: {server.Endpoint.Statistics.Connections} connections held, {server.Endpoint.Statistics.ConnectionsEvicted} evicted");
        Assert.InRange(server.Endpoint.Statistics.Connections, 1, 50);
        Assert.True(server.Endpoint.Statistics.ConnectionsEvicted >= 300, $"{server.Endpoint.Statistics.ConnectionsEvicted} evicted");

        SimulatedNode newcomer = network.AddNode("newcomer");
        newcomer.Address = SocketAddresses.Of("10.0.0.2", 5000);
        DatagramHandle handle = newcomer.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        Assert.True(network.RunUntil(() => newcomer.EventsOf(DatagramEventKind.Connected).Any(), 2 * Second));
        newcomer.Endpoint.Send(handle, "in"u8, network.Now);
        Assert.True(network.RunUntil(() => server.Received.Count == 1, Second));

        // The silent connections are closed long before the 540 s idle timer: at 60 s, as unused.
        network.RunFor(TimeSpan.FromSeconds(61));
        Assert.Equal(1, server.Endpoint.Statistics.Connections);
        Assert.All(server.EventsOf(DatagramEventKind.Closed), e => Assert.True(e.CloseReason is DatagramCloseReason.Unused or DatagramCloseReason.Evicted));
        Assert.Contains(server.EventsOf(DatagramEventKind.Closed), e => e.CloseReason == DatagramCloseReason.Unused);
        Assert.All(attackers.SelectMany(a => a.EventsOf(DatagramEventKind.Closed)), e => Assert.True(e.PeerCloseCode is DatagramCloseCodes.Unused or DatagramCloseCodes.Evicted));
    }

    [Fact]
    public void AFullTableGivesTheOldestUnusedConnectionsPlaceToANewcomer()
    {
        var (network, _, server) = DatagramHandshakeTests.Pair(904, o => (o.AddressFormat, o.MaxConnections) = (DatagramAddressFormat.SocketAddress, 40));
        using var _n = network;
        // Four hosts fill the table within their shares, one connection of each used.
        var held = new List<(SimulatedNode Node, DatagramHandle Handle)>();
        for (int host = 0; host < 4; host++)
        {
            for (int i = 0; i < 10; i++)
            {
                SimulatedNode node = network.AddNode($"host {host} #{i}");
                node.Address = SocketAddresses.Of($"10.0.1.{host + 1}", 3000 + i);
                held.Add((node, node.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now)));
                network.RunFor(TimeSpan.FromMilliseconds(100));
            }
        }
        foreach (var (node, handle) in held.Where((_, i) => i % 10 == 0))
        {
            node.Endpoint.Send(handle, "used"u8, network.Now);
        }
        network.RunFor(Second);
        Assert.Equal(40, server.Endpoint.Statistics.Connections);

        SimulatedNode newcomer = network.AddNode("newcomer");
        newcomer.Address = SocketAddresses.Of("10.0.2.1", 4000);
        newcomer.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Count() == 41, 2 * Second));
        network.RunFor(TimeSpan.FromMilliseconds(100)); // the close reaches the evicted peer
        Assert.Equal(40, server.Endpoint.Statistics.Connections);
        Assert.Equal(1, server.Endpoint.Statistics.ConnectionsEvicted);
        // The one evicted is the oldest that was never used (host 0's second), and its peer was told why.
        DatagramEvent evicted = Assert.Single(server.EventsOf(DatagramEventKind.Closed));
        Assert.Equal(DatagramCloseReason.Evicted, evicted.CloseReason);
        Assert.Equal(DatagramCloseCodes.Evicted, Assert.Single(held[1].Node.EventsOf(DatagramEventKind.Closed)).PeerCloseCode);
        Assert.All(held.Where((_, i) => i % 10 == 0), h => Assert.Empty(h.Node.EventsOf(DatagramEventKind.Closed)));
    }

    [Fact]
    public void ManyPortsOfOneAddressShareOneHalfOpenBudget()
    {
        var (network, _, server) = DatagramHandshakeTests.Pair(905, o => (o.AddressFormat, o.AddressValidation) = (DatagramAddressFormat.SocketAddress, DatagramAddressValidation.Never));
        using var _n = network;
        server.Verifier = null; // verdicts never come: every handshake stays half-open
        using var attacker = new DatagramEndpoint(new DatagramOptions { Identity = OssuaryKeyPair.Generate() }, network.Now);
        byte[] packet = new byte[1200], address = new byte[64];
        for (int port = 1; port <= 700; port++)
        {
            attacker.Connect(server.Address, peerKey: null, network.Now); // XX: no per-key rate to hide behind
            Assert.True(attacker.TryPollTransmit(packet, address, out int length, out _));
            server.Endpoint.HandleDatagram(packet.AsSpan(0, length), SocketAddresses.Of("10.0.0.1", port), network.Now);
        }
        Assert.Equal(8, server.Endpoint.Statistics.HalfOpenHandshakes);
        Assert.Equal(692, server.Endpoint.Statistics.Dropped(DatagramDropReason.TableFull));
        // Another host, and another /64, have budgets of their own; one /64 is one source.
        attacker.Connect(server.Address, peerKey: null, network.Now);
        Assert.True(attacker.TryPollTransmit(packet, address, out int other, out _));
        server.Endpoint.HandleDatagram(packet.AsSpan(0, other), SocketAddresses.Of("10.0.0.2", 1), network.Now);
        Assert.Equal(9, server.Endpoint.Statistics.HalfOpenHandshakes);
        for (int host = 1; host <= 20; host++)
        {
            attacker.Connect(server.Address, peerKey: null, network.Now);
            Assert.True(attacker.TryPollTransmit(packet, address, out int length, out _));
            server.Endpoint.HandleDatagram(packet.AsSpan(0, length), SocketAddresses.Of($"2001:db8:1:2::{host:x}", 443), network.Now);
        }
        Assert.Equal(17, server.Endpoint.Statistics.HalfOpenHandshakes);
    }

    [Fact]
    public void TheFirstDatagramsAfterAnXXConnectAreNotLostWhileTheVerdictIsAwaited()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(906);
        using var _n = network;
        server.Verifier = null; // an asynchronous verdict: it comes 200 ms after it was asked
        DatagramHandle handle = client.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.VerificationRequired).Any(), Second));
        DatagramHandle pending = server.EventsOf(DatagramEventKind.VerificationRequired).Single().Handle;
        network.RunFor(TimeSpan.FromMilliseconds(200));
        Assert.Empty(client.EventsOf(DatagramEventKind.Connected)); // connected means the responder let it in
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(DatagramSendResult.Queued, client.Endpoint.Send(handle, [(byte)i], network.Now));
        }
        server.Endpoint.CompletePeerVerification(pending, PeerVerdict.Accept(), network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        for (int i = 10; i < 20; i++)
        {
            Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(handle, [(byte)i], network.Now));
        }
        network.RunFor(Second);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (byte)i), server.Received.Select(r => r.Payload.Single()));
        Assert.Equal(0, server.Endpoint.Statistics.TotalDropped);
        Assert.Equal(0, client.Endpoint.Statistics.TotalDropped);
    }

    [Fact]
    public void AnXXInitiatorWhoseKeyIsRejectedIsNeverConnected()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(907);
        using var _n = network;
        server.Verifier = _ => PeerVerdict.Reject("not on the list");
        DatagramHandle handle = client.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        client.Endpoint.Send(handle, "secret"u8, network.Now);
        network.RunFor(TimeSpan.FromSeconds(5));
        Assert.Empty(client.EventsOf(DatagramEventKind.Connected));
        Assert.DoesNotContain(network.Wire, p => p.IsDataTo(server)); // held: nothing sealed for a responder that refused
    }

    [Fact]
    public void IkInitiationsOfOneKeyAtOneInstantAreAllTakenInWhateverOrderTheyArrive()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(908);
        using var _n = network;
        // A tunnel's flows starting together: four connections of one key at one instant, the network reversing them.
        var initiations = new List<WirePacket>();
        network.Tap = p => { if (p.Type == DatagramPacketType.Initiation) { initiations.Add(p); return false; } return true; };
        for (int i = 0; i < 4; i++)
        {
            client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        }
        network.Pump();
        network.Tap = null;
        initiations.Reverse();
        foreach (WirePacket initiation in initiations)
        {
            network.DeliverNow(initiation.Packet, initiation.From, server);
        }
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Count() == 4, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, server.Endpoint.Statistics.TotalDropped);
        Assert.Equal(0, client.Endpoint.Statistics.HandshakeRetransmissions);
        // The same Initiation again is still a replay.
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.StaleTimestamp, () => network.DeliverNow(initiations[0].Packet, [0x77], server));
    }

    [Fact]
    public void ATimeBeyondAThousandYearsIsTheCallersMistake()
    {
        var (network, client, server, handle, _) = Connected(909, ik: true);
        using var _n = network;
        TimeSpan end = TimeSpan.MaxValue - TimeSpan.FromSeconds(1);
        Assert.Equal("now", Assert.Throws<ArgumentOutOfRangeException>(() => client.Endpoint.HandleTimeout(end)).ParamName);
        Assert.Equal("now", Assert.Throws<ArgumentOutOfRangeException>(() => client.Endpoint.Send(handle, "x"u8, end)).ParamName);
        Assert.Equal("now", Assert.Throws<ArgumentOutOfRangeException>(() => client.Endpoint.Connect(server.Address, null, end)).ParamName);
        Assert.Equal("now", Assert.Throws<ArgumentOutOfRangeException>(() => client.Endpoint.HandleDatagram(new byte[40], server.Address, end)).ParamName);
        Assert.Equal("now", Assert.Throws<ArgumentOutOfRangeException>(() => client.Endpoint.Close(handle, 0, end)).ParamName);
        Assert.Equal("now", Assert.Throws<ArgumentOutOfRangeException>(() => new DatagramEndpoint(new DatagramOptions { Identity = client.Identity }, TimeSpan.MinValue)).ParamName);
        // Nothing moved: the connection still works at the real time.
        Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(handle, "still here"u8, network.Now));
        Assert.True(network.RunUntil(() => server.Received.Count == 1, Second));
        Assert.NotNull(client.Endpoint.NextTimeout());
        Assert.True(client.Endpoint.NextTimeout() < network.Now + TimeSpan.FromHours(1));
        Assert.True(DatagramEndpoint.MaxTime < TimeSpan.MaxValue);
    }
}
