using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Timers from the time passed in: keepalives, dead peers, idle keys, and clocks that go backwards or jump.</summary>
public sealed class DatagramTimerTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static int DataPackets(SimulatedNetwork network, SimulatedNode from, TimeSpan after, TimeSpan before) =>
        network.Wire.Count(p => p.Type == DatagramPacketType.Data && p.From.SequenceEqual(from.Address) && p.At > after && p.At <= before);

    [Fact]
    public void OneWayTrafficGetsAKeepaliveEveryTenSecondsAndAnIdleLinkStaysSilent()
    {
        var (network, client, server, handle, _) = Connected(500, ik: true);
        using var _n = network;
        TimeSpan start = network.Now;
        for (int i = 0; i < 30; i++)
        {
            client.Endpoint.Send(handle, "tick"u8, network.Now);
            network.RunFor(Second);
        }
        // A keepalive is due 10 s after a receive not answered by any send: at about 10 and 21 s (the clock restarts
        // with the first packet received after each keepalive).
        Assert.Equal(2, DataPackets(network, server, start, network.Now));
        TimeSpan quietFrom = network.Now;
        network.RunFor(TimeSpan.FromSeconds(100));
        Assert.InRange(DataPackets(network, server, quietFrom, network.Now), 0, 1); // at most the last keepalive owed
        Assert.Equal(0, DataPackets(network, client, quietFrom, network.Now));
        Assert.Equal(0, DataPackets(network, server, quietFrom + TimeSpan.FromSeconds(11), network.Now));
    }

    [Fact]
    public void ADeadPeerIsRehandshakenAtFifteenSecondsAndClosedNinetySecondsLater()
    {
        var (network, client, server, handle, _) = Connected(501, ik: true);
        using var _n = network;
        network.SetLink(server, client, new LinkConditions { Loss = 1.0 });
        network.SetLink(client, server, new LinkConditions { Loss = 1.0 });
        TimeSpan sent = network.Now;
        client.Endpoint.Send(handle, "anyone?"u8, network.Now);
        Assert.True(network.RunUntil(() => network.Wire.Any(p => p.Type == DatagramPacketType.Initiation && p.At > sent), TimeSpan.FromSeconds(20)));
        TimeSpan rehandshake = network.Wire.Last(p => p.Type == DatagramPacketType.Initiation).At;
        Assert.InRange(rehandshake - sent, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15.34));
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Closed).Any(), TimeSpan.FromSeconds(100)));
        Assert.Equal(DatagramCloseReason.HandshakeTimedOut, client.EventsOf(DatagramEventKind.Closed).Single().CloseReason);
        Assert.InRange(network.Now - rehandshake, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(96));
    }

    [Fact]
    public void AClockThatGoesBackwardsFiresNothingEarlyAndBreaksNothing()
    {
        var (network, client, server, handle, accepted) = Connected(502, ik: false);
        using var _n = network;
        client.Endpoint.Send(handle, "before"u8, network.Now);
        network.RunFor(Second);
        TimeSpan? nextBefore = client.Endpoint.NextTimeout();
        int wire = network.Wire.Count;
        foreach (TimeSpan back in (TimeSpan[])[TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), TimeSpan.FromHours(5)])
        {
            client.Endpoint.HandleTimeout(network.Now - back);
            server.Endpoint.HandleTimeout(network.Now - back);
            Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(handle, "during"u8, network.Now - back));
        }
        Assert.Equal(nextBefore, client.Endpoint.NextTimeout());
        network.Pump();
        Assert.Equal(wire + 3, network.Wire.Count); // the three datagrams, nothing else
        network.RunFor(Second);
        Assert.Equal(["before", "during", "during", "during"], server.Received.Select(r => System.Text.Encoding.ASCII.GetString(r.Payload)));
        Assert.True(server.Endpoint.GetInfo(accepted).IsEstablished);
    }

    [Fact]
    public void AnHourJumpExpiresTheKeysAndTheNextDatagramRekeysWithoutAStorm()
    {
        var (network, client, server, handle, _) = Connected(503, ik: true);
        using var _n = network;
        for (int i = 0; i < 5; i++)
        {
            client.Endpoint.Send(handle, "steady"u8, network.Now);
            server.Endpoint.Send(server.Accepted, "steady"u8, network.Now);
            network.RunFor(Second);
        }
        WirePacket stale = Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, "old keys"u8, network.Now));
        int wire = network.Wire.Count;
        network.JumpClock(TimeSpan.FromHours(1));
        network.RunFor(TimeSpan.FromMilliseconds(1)); // every overdue timer fires once
        Assert.InRange(network.Wire.Count - wire, 0, 2);
        Assert.DoesNotContain(network.Wire.Skip(wire), p => p.Type == DatagramPacketType.Data); // nothing under expired keys

        long dropsBefore = server.Endpoint.Statistics.TotalDropped;
        network.DeliverNow(stale.Packet, stale.From, server);
        Assert.Equal(dropsBefore + 1, server.Endpoint.Statistics.TotalDropped);
        Assert.DoesNotContain(server.Received, r => r.Payload.SequenceEqual("old keys"u8.ToArray()));

        Assert.Equal(DatagramSendResult.Queued, client.Endpoint.Send(handle, "after the jump"u8, network.Now));
        Assert.True(network.RunUntil(() => server.Received.Any(r => r.Payload.SequenceEqual("after the jump"u8.ToArray())), 2 * Second));
        Assert.True(client.Endpoint.GetInfo(handle).KeyPairAge < Second);
    }

    [Fact]
    public void WithoutAHandshakeForNineMinutesTheResponderForgetsAndTheInitiatorWipesItsKeys()
    {
        var (network, client, server, handle, accepted) = Connected(504, ik: true);
        using var _n = network;
        client.Endpoint.Send(handle, "used"u8, network.Now); // a connection never used is closed long before (its own test)
        network.RunFor(TimeSpan.FromSeconds(541));
        Assert.Equal(DatagramCloseReason.Idle, server.EventsOf(DatagramEventKind.Closed).Single().CloseReason);
        Assert.Throws<ArgumentException>(() => server.Endpoint.GetInfo(accepted));
        Assert.Null(client.Endpoint.GetInfo(handle).KeyPairAge);
        Assert.Null(server.Endpoint.NextTimeout());
        Assert.Null(client.Endpoint.NextTimeout());
    }

    [Fact]
    public void PersistentKeepaliveKeepsAnIdleConnectionWarm()
    {
        var (network, client, server, handle, _) = Connected(505, ik: true, client: o => o.PersistentKeepalive = TimeSpan.FromSeconds(25));
        using var _n = network;
        client.Endpoint.Send(handle, "used"u8, network.Now); // a connection never used is closed long before (its own test)
        network.RunFor(TimeSpan.FromMilliseconds(100));
        TimeSpan start = network.Now;
        network.RunFor(TimeSpan.FromSeconds(600));
        long rekeys = client.Endpoint.Statistics.Rekeys;
        Assert.InRange(rekeys, 4, 5); // keepalives are sends: keys older than 120 s are renewed
        Assert.InRange(DataPackets(network, client, start, network.Now), 24, 24 + rekeys); // one per 25 s, one to confirm each rekey
        Assert.Empty(server.EventsOf(DatagramEventKind.Closed));
    }

    [Fact]
    public void ACloseReachesThePeerAndIsRepeatedOncePerLatePacket()
    {
        var (network, client, server, handle, accepted) = Connected(506, ik: true);
        using var _n = network;
        WirePacket late = Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, "late"u8, network.Now));
        server.Endpoint.Close(accepted, 42, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(100));
        DatagramEvent closed = client.EventsOf(DatagramEventKind.Closed).Single();
        Assert.Equal((DatagramCloseReason.ByPeer, (ushort)42), (closed.CloseReason, closed.PeerCloseCode));
        Assert.Equal(DatagramCloseReason.Local, server.EventsOf(DatagramEventKind.Closed).Single().CloseReason);
        Assert.Equal(DatagramSendResult.Closed, client.Endpoint.Send(handle, "x"u8, network.Now));
        int wire = network.Wire.Count;
        network.DeliverNow(late.Packet, late.From, server);
        Assert.Equal(wire + 1, network.Wire.Count); // the close again, once
        Assert.Empty(server.Received);
        network.RunFor(TimeSpan.FromSeconds(16)); // the close lingers 3 s, the answered Initiation's record 15 s
        Assert.Equal(0, server.Endpoint.Statistics.Connections);
        Assert.Equal(0, client.Endpoint.Statistics.Connections);
        Assert.Null(server.Endpoint.NextTimeout());
    }

    [Fact]
    public void TwoSidesThatCloseAtOnceDoNotAnswerEachOthersCloses()
    {
        var (network, client, server, handle, accepted) = Connected(507, ik: true);
        using var _n = network;
        client.Endpoint.Close(handle, 1, network.Now);
        server.Endpoint.Close(accepted, 2, network.Now);
        int wire = network.Wire.Count;
        network.RunFor(TimeSpan.FromSeconds(4));
        Assert.Equal(wire + 2, network.Wire.Count); // each side's one close, crossing; neither answers the other's
        Assert.Equal(0, client.Endpoint.Statistics.Connections);
        Assert.Equal(0, server.Endpoint.Statistics.Connections);
    }
}
