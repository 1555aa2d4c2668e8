using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Replays and forgeries: CVE-2024-58265's lesson (nothing unauthenticated changes anything) and replayed handshake messages.</summary>
public sealed class DatagramReplayTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>Everything a forged packet must not change, as seen through the public API.</summary>
    private static string Observable(SimulatedNode node, DatagramHandle handle)
    {
        DatagramConnectionInfo info = node.Endpoint.GetInfo(handle);
        DatagramStatistics statistics = node.Endpoint.Statistics;
        return string.Join("|", Convert.ToHexString(info.Address), info.AddressValidated, info.IsEstablished, info.PacketsIn, info.BytesIn,
            info.PacketsOut, info.EstimatedLoss, info.LargestReorderDepth, info.LastHandshakeAt, info.SmoothedRtt, node.Endpoint.NextTimeout(),
            statistics.TotalPacketsOut, statistics.HandshakesCompleted, statistics.Rekeys, statistics.RoamingEvents, node.Events.Count, node.Received.Count);
    }

    [Fact]
    public void ForgedPacketsWithAValidSessionIdChangeNothing()
    {
        var (network, client, server, handle, accepted) = Connected(200, ik: true);
        using var _n = network;
        WirePacket genuine = Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, "genuine"u8, network.Now));
        ulong next = BinaryPrimitives.ReadUInt64LittleEndian(genuine.Packet.AsSpan(8));
        string before = Observable(server, accepted);
        long authenticationFailures = server.Endpoint.GetInfo(accepted).AuthenticationFailures;
        int forged = 0;
        foreach (ulong counter in (ulong[])[next, next + 1, next + (1UL << 40)])
        {
            byte[] garbage = RandomNumberGenerator.GetBytes(genuine.Packet.Length);
            DatagramPacket.WriteDataHeader(garbage, BinaryPrimitives.ReadUInt32LittleEndian(genuine.Packet.AsSpan(4)), counter);
            byte[] tagFlipped = (byte[])genuine.Packet.Clone();
            tagFlipped[^1] ^= 0x80;
            BinaryPrimitives.WriteUInt64LittleEndian(tagFlipped.AsSpan(8), counter);
            byte[] bodyFlipped = (byte[])genuine.Packet.Clone();
            bodyFlipped[17] ^= 1;
            foreach (byte[] packet in (byte[][])[garbage, tagFlipped, bodyFlipped])
            {
                network.DeliverNow(packet, [0xEE, 0xEE], server); // from an address the peer never used, too
                forged++;
            }
        }
        Assert.Equal(before, Observable(server, accepted));
        Assert.Equal(authenticationFailures + forged, server.Endpoint.GetInfo(accepted).AuthenticationFailures);
        // The window did not move: the genuine packet at the counter the forgeries claimed still opens.
        network.DeliverNow(genuine.Packet, genuine.From, server);
        Assert.Equal("genuine"u8.ToArray(), Assert.Single(server.Received).Payload);
    }

    [Fact]
    public void AForgedPacketDoesNotConfirmKeysOrEstablishAConnection()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(201);
        using var _n = network;
        // The initiator's first packet under the new keys (its keepalive) is held: the responder's keys stay unconfirmed,
        // in the half-open table, and no connection exists.
        WirePacket confirmation = Hold(network, p => p.IsDataTo(server), () =>
        {
            client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(100));
        });
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(0, server.Endpoint.Statistics.Connections);
        Assert.Equal(1, server.Endpoint.Statistics.HalfOpenHandshakes);
        byte[] forged = (byte[])confirmation.Packet.Clone();
        forged[^3] ^= 4;
        long failures = server.Endpoint.Statistics.Dropped(DatagramDropReason.AuthenticationFailed);
        network.DeliverNow(forged, confirmation.From, server);
        Assert.Equal(failures + 1, server.Endpoint.Statistics.Dropped(DatagramDropReason.AuthenticationFailed));
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(0, server.Endpoint.Statistics.Connections);
        network.DeliverNow(confirmation.Packet, confirmation.From, server);
        Assert.True(server.Endpoint.GetInfo(server.Accepted).IsEstablished);
        Assert.Equal(1, server.Endpoint.Statistics.Connections);
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
    }

    [Fact]
    public void ReplayedDataIsNotDeliveredTwice()
    {
        var (network, client, server, handle, _) = Connected(202, ik: false);
        using var _n = network;
        client.Endpoint.Send(handle, "once"u8, network.Now);
        network.RunFor(Second);
        WirePacket data = network.Wire.Last(p => p.IsDataTo(server));
        for (int i = 0; i < 5; i++)
        {
            network.DeliverNow(data.Packet, data.From, server);
        }
        Assert.Single(server.Received);
        Assert.Equal(5, server.Endpoint.Statistics.Dropped(DatagramDropReason.Duplicate));
    }

    [Fact]
    public void ReplayedXXInitiationAndFinishCreateNoConfirmedSessionAndLeaveTheLiveOneAlone()
    {
        var (network, client, server, handle, accepted) = Connected(203, ik: false);
        using var _n = network;
        WirePacket initiation = network.Wire.First(p => p.Type == DatagramPacketType.Initiation);
        WirePacket finish = network.Wire.First(p => p.Type == DatagramPacketType.Finish);
        network.RunFor(TimeSpan.FromSeconds(20)); // the half-open record is gone
        byte[] attacker = [0xAA, 0xAA];
        network.DeliverNow(initiation.Packet, attacker, server);   // a new half-open handshake: a Response goes to the attacker…
        network.DeliverNow(finish.Packet, attacker, server);       // …but the old Finish does not fit it, nor the live session
        network.RunFor(TimeSpan.FromSeconds(20));
        Assert.Single(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
        Assert.Equal(1, server.Endpoint.Statistics.Connections);
        Assert.Equal(client.Address, server.Endpoint.GetInfo(accepted).Address);
        client.Endpoint.Send(handle, "still here"u8, network.Now);
        network.RunFor(Second);
        Assert.Equal("still here"u8.ToArray(), server.Received.Last().Payload);
    }

    [Fact]
    public void AReplayedFinishGetsAKeepaliveAtThePeersAddressNotTheSender()
    {
        var (network, client, server, _, _) = Connected(204, ik: false);
        using var _n = network;
        WirePacket finish = network.Wire.First(p => p.Type == DatagramPacketType.Finish);
        int sent = network.Wire.Count;
        network.DeliverNow(finish.Packet, [0xAA, 0xAA], server);
        WirePacket answer = Assert.Single(network.Wire.Skip(sent));
        Assert.Equal(client.Address, answer.To);
        Assert.Equal(32, answer.Packet.Length); // a keepalive: 16 bytes of header, 16 of tag
        Assert.Single(server.EventsOf(DatagramEventKind.Accepted));
    }

    [Fact]
    public void AReplayedIKInitiationIsRefusedAndItsEarlyDataNotDeliveredAgain()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(205, o => o.AcceptEarlyData = true);
        using var _n = network;
        DatagramHandle handle = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now, "transfer 10"u8);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        WirePacket initiation = network.Wire.First(p => p.Type == DatagramPacketType.Initiation);
        network.DeliverNow(initiation.Packet, initiation.From, server); // within 15 s: the stored Response, nothing else
        network.RunFor(TimeSpan.FromSeconds(20));
        network.DeliverNow(initiation.Packet, initiation.From, server); // later: refused by its timestamp
        network.DeliverNow(initiation.Packet, [0xAB], server);
        Assert.Single(server.Received, r => r.Flags == DatagramReceiveFlags.EarlyData);
        Assert.Single(server.EventsOf(DatagramEventKind.Accepted));
        Assert.Equal(2, server.Endpoint.Statistics.Dropped(DatagramDropReason.StaleTimestamp));
        client.Endpoint.Send(handle, "live"u8, network.Now);
        network.RunFor(Second);
        Assert.Equal("live"u8.ToArray(), server.Received.Last().Payload);
    }
}
