using System.Buffers.Binary;
using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Loss, duplication, reordering and rekeying on the simulated network: handshakes complete, nothing is delivered twice.</summary>
public sealed class DatagramLossyNetworkTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static byte[] Numbered(int i)
    {
        byte[] payload = new byte[8 + i % 50];
        BinaryPrimitives.WriteInt32LittleEndian(payload, i);
        return payload;
    }

    private static (SimulatedNetwork, SimulatedNode, SimulatedNode, DatagramHandle, DatagramHandle) Connected(int seed, bool ik, LinkConditions conditions, Action<DatagramOptions>? serverOptions = null)
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(seed, serverOptions, conditions: conditions);
        DatagramHandle handle = client.Endpoint.Connect(server.Address, ik ? server.Identity.PublicKey : null, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any() && server.EventsOf(DatagramEventKind.Accepted).Any(), TimeSpan.FromSeconds(90)),
            $"no handshake within 90 s (seed {seed}, loss {conditions.Loss}): client {string.Join(",", client.Events)}; server {string.Join(",", server.Events)}; "
            + $"wire {string.Join(",", network.Wire.Select(p => $"{p.Type}@{(p.At - network.Wire[0].At).TotalSeconds:F2}"))}; server drops {string.Join(",", Enum.GetValues<DatagramDropReason>().Select(r => $"{r}={server.Endpoint.Statistics.Dropped(r)}"))}"
            + $"; client drops {string.Join(",", Enum.GetValues<DatagramDropReason>().Select(r => $"{r}={client.Endpoint.Statistics.Dropped(r)}"))}");
        return (network, client, server, handle, server.Accepted);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.1, false)]
    [InlineData(0.3, true)]
    [InlineData(0.5, false)]
    [InlineData(0.5, true)]
    public void UnderLossHandshakesCompleteAndNothingIsDeliveredTwice(double loss, bool ik)
    {
        for (int seed = 10; seed < 16; seed++)
        {
            var (network, client, server, handle, accepted) = Connected(seed, ik, new LinkConditions { Loss = loss, Jitter = TimeSpan.FromMilliseconds(30) });
            using var _ = network;
            for (int i = 0; i < 200; i++)
            {
                client.Endpoint.Send(handle, Numbered(i), network.Now);
                server.Endpoint.Send(accepted, Numbered(1000 + i), network.Now);
                network.RunFor(TimeSpan.FromMilliseconds(10));
            }
            network.RunFor(Second);
            int[] atServer = server.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)).ToArray();
            int[] atClient = client.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)).ToArray();
            Assert.Equal(atServer.Length, atServer.Distinct().Count());
            Assert.Equal(atClient.Length, atClient.Distinct().Count());
            Assert.All(atServer, i => Assert.InRange(i, 0, 199));
            Assert.All(atClient, i => Assert.InRange(i, 1000, 1199));
            if (loss == 0)
            {
                Assert.Equal(200, atServer.Length);
                Assert.Equal(200, atClient.Length);
            }
            else
            {
                // What arrives is what the link let through, roughly 1 − loss of it; the loss estimate sees the gaps.
                Assert.InRange(atServer.Length, (int)(200 * (1 - loss) * 0.7), 200);
                Assert.InRange(server.Endpoint.GetInfo(accepted).EstimatedLoss, loss * 0.5, Math.Min(1, loss * 1.6));
            }
        }
    }

    [Fact]
    public void RetransmissionsCarryAHandshakeThroughHeavyLoss()
    {
        long retransmissions = 0;
        for (int seed = 20; seed < 30; seed++)
        {
            var (network, client, _, _, _) = Connected(seed, ik: false, new LinkConditions { Loss = 0.5 });
            using var __ = network;
            retransmissions += client.Endpoint.Statistics.HandshakeRetransmissions;
        }
        Assert.True(retransmissions > 0, "half the packets lost and never a retransmission");
    }

    [Fact]
    public void AHandshakeWithNoAnswerGivesUpAt90Seconds()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(31, conditions: new LinkConditions { Loss = 1.0 });
        using var _ = network;
        TimeSpan started = network.Now;
        DatagramHandle handle = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        client.Endpoint.Send(handle, "never"u8, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Closed).Any(), TimeSpan.FromSeconds(120)));
        Assert.Equal(DatagramCloseReason.HandshakeTimedOut, client.Events.Single(e => e.Kind == DatagramEventKind.Closed).CloseReason);
        Assert.InRange(network.Now - started, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(96));
        // 1, 2, 4, then every 5 s (each + up to 333 ms): retransmissions at about 1, 3, 7, 12, …, 87 s.
        Assert.InRange(client.Endpoint.Statistics.HandshakeRetransmissions, 15, 19);
        Assert.Equal(1, client.Endpoint.Statistics.HandshakesTimedOut);
        Assert.All(network.Wire, p => Assert.Equal(network.Wire[0].Packet, p.Packet)); // the same bytes each time
        Assert.Null(client.Endpoint.NextTimeout());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void DuplicatedPacketsAreDeliveredOnceAndCountedExactly(int maxExtraCopies)
    {
        var (network, client, server, handle, _) = Connected(40 + maxExtraCopies, ik: true, new LinkConditions { Duplication = 1.0, MaxExtraCopies = maxExtraCopies });
        using var _ = network;
        int before = network.Deliveries.Count;
        for (int i = 0; i < 100; i++)
        {
            client.Endpoint.Send(handle, Numbered(i), network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(5));
        }
        network.RunFor(Second);
        Assert.Equal(Enumerable.Range(0, 100), server.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)));
        // Every copy of a Data packet after the first is a counted duplicate, no more and no less.
        long expected = network.Deliveries.Where(d => d.Type == DatagramPacketType.Data && d.To.SequenceEqual(server.Address))
            .GroupBy(d => Convert.ToHexString(d.Packet)).Sum(g => g.Count() - 1);
        Assert.True(expected >= 100);
        Assert.Equal(expected, server.Endpoint.Statistics.Dropped(DatagramDropReason.Duplicate));
    }

    [Fact]
    public void ReorderingWithinTheWindowIsDeliveredAndBeyondItDropped()
    {
        var (network, client, server, handle, accepted) = Connected(50, ik: true, LinkConditions.Clean);
        using var _ = network;
        network.Conditions = new LinkConditions { Jitter = TimeSpan.FromMilliseconds(300) };
        for (int i = 0; i < 300; i++)
        {
            client.Endpoint.Send(handle, Numbered(i), network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(1));
        }
        network.RunFor(Second);
        int[] order = server.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)).ToArray();
        Assert.Equal(Enumerable.Range(0, 300), order.Order());
        Assert.NotEqual(Enumerable.Range(0, 300), order);
        Assert.True(server.Endpoint.GetInfo(accepted).LargestReorderDepth > 10);

        // A packet held back while more than 4032 others pass is behind the window.
        network.Conditions = LinkConditions.Clean;
        WirePacket held = DatagramScenario.Hold(network, p => p.Type == DatagramPacketType.Data, () =>
        {
            for (int i = 0; i < 4100; i++)
            {
                client.Endpoint.Send(handle, Numbered(i), network.Now);
                if (i % 100 == 0)
                {
                    network.RunFor(TimeSpan.FromMilliseconds(1));
                }
            }
            network.RunFor(Second);
        });
        long behind = server.Endpoint.Statistics.Dropped(DatagramDropReason.BehindWindow);
        network.DeliverNow(held.Packet, held.From, server);
        Assert.Equal(behind + 1, server.Endpoint.Statistics.Dropped(DatagramDropReason.BehindWindow));
    }

    [Fact]
    public void TenMinutesOfTrafficRekeyAboutEveryTwoMinutesWithoutLosingADatagram()
    {
        var (network, client, server, handle, accepted) = Connected(60, ik: false, LinkConditions.Clean);
        using var _ = network;
        for (int i = 0; i < 600; i++)
        {
            client.Endpoint.Send(handle, Numbered(i), network.Now);
            server.Endpoint.Send(accepted, Numbered(10_000 + i), network.Now);
            network.RunFor(Second);
        }
        Assert.Equal(Enumerable.Range(0, 600), server.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)));
        Assert.Equal(Enumerable.Range(10_000, 600), client.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)));
        Assert.Equal(4, client.Endpoint.Statistics.Rekeys); // at about 120, 240, 360 and 480 s
        Assert.Equal(4, server.Endpoint.Statistics.Rekeys);
        Assert.True(client.Endpoint.GetInfo(handle).KeyPairAge < TimeSpan.FromSeconds(125));
        Assert.All(network.Wire.Where(p => p.Type == DatagramPacketType.Initiation).Skip(1), p => Assert.Equal(2, p.Packet[2])); // rekeys are IK
    }

    [Fact]
    public void CountersNearTheLimitsRekeyInTimeAndNeverSendPastTheLast()
    {
        var (network, client, server, handle, _) = Connected(62, ik: true, LinkConditions.Clean);
        using var _ = network;
        // At 2^60 the initiator starts a new handshake; the packet still goes on the old keys.
        client.Endpoint.SetSendCounterForTests(handle, DatagramTimers.RekeyAfterMessages - 1);
        Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(handle, Numbered(1), network.Now));
        network.RunFor(Second);
        Assert.Equal(1, client.Endpoint.Statistics.Rekeys);
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(server.Received.Single().Payload));

        // The last counter under a key is used once; after it the datagram waits for new keys instead.
        client.Endpoint.SetSendCounterForTests(handle, DatagramKeyPair.MessageLimit - 1);
        Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(handle, Numbered(2), network.Now));
        Assert.Equal(DatagramSendResult.Queued, client.Endpoint.Send(handle, Numbered(3), network.Now));
        network.RunFor(Second);
        Assert.Equal([1, 2, 3], server.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)));
        Assert.Equal(2, client.Endpoint.Statistics.Rekeys);
        Assert.DoesNotContain(network.Wire, p => p.Type == DatagramPacketType.Data && BinaryPrimitives.ReadUInt64LittleEndian(p.Packet.AsSpan(8)) >= DatagramKeyPair.MessageLimit);
    }

    [Fact]
    public void PacketsSentUnderTheOldKeysAreDeliveredAfterARekey()
    {
        // The held datagrams are the connection's first: the responder is told to keep a connection not used yet.
        var (network, client, server, handle, _) = Connected(61, ik: true, LinkConditions.Clean, o => o.UnusedConnectionTimeout = null);
        using var _ = network;
        var held = new List<WirePacket>();
        network.Tap = p => { if (p.Type == DatagramPacketType.Data && held.Count < 5 && p.To.SequenceEqual(server.Address)) { held.Add(p); return false; } return true; };
        for (int i = 0; i < 5; i++)
        {
            client.Endpoint.Send(handle, Numbered(i), network.Now);
        }
        network.Pump();
        network.Tap = null;
        network.RunFor(TimeSpan.FromSeconds(121));
        client.Endpoint.Send(handle, Numbered(5), network.Now); // starts the rekey, goes under the old keys
        network.RunFor(Second);
        client.Endpoint.Send(handle, Numbered(6), network.Now); // under the new keys
        network.RunFor(Second);
        Assert.Equal(1, client.Endpoint.Statistics.Rekeys);
        foreach (WirePacket packet in held)
        {
            network.DeliverNow(packet.Packet, packet.From, server);
        }
        Assert.Equal([5, 6, 0, 1, 2, 3, 4], server.Received.Select(r => BinaryPrimitives.ReadInt32LittleEndian(r.Payload)));
    }
}
