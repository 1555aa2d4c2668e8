using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>
/// Every truncation and every single-bit flip of every packet type, delivered while the genuine packet is held back:
/// each is a counted drop (no exception, no new state), and the genuine packet still works afterwards.
/// </summary>
public sealed class DatagramMutationTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static IEnumerable<byte[]> Mutations(byte[] packet)
    {
        for (int length = 0; length < packet.Length; length++)
        {
            yield return packet[..length];
        }
        for (int bit = 0; bit < packet.Length * 8; bit++)
        {
            byte[] flipped = (byte[])packet.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            yield return flipped;
        }
    }

    /// <summary>Delivers every mutation; each must move the drop total by one and nothing else a caller can see.</summary>
    private static void AllDropped(SimulatedNetwork network, WirePacket genuine, SimulatedNode to, Func<byte[], bool>? mayBeTaken = null)
    {
        int mutations = 0;
        foreach (byte[] mutated in Mutations(genuine.Packet))
        {
            DatagramStatistics before = to.Endpoint.Statistics;
            int events = to.Events.Count, wire = network.Wire.Count;
            to.Endpoint.HandleDatagram(mutated, genuine.From, network.Now);
            network.Pump();
            DatagramStatistics after = to.Endpoint.Statistics;
            if (mayBeTaken?.Invoke(mutated) == true)
            {
                continue;
            }
            Assert.True(after.TotalDropped == before.TotalDropped + 1, $"mutation {mutations} of a {genuine.Type} was not dropped once");
            Assert.Equal((before.HalfOpenHandshakes, before.Connections, events), (after.HalfOpenHandshakes, after.Connections, to.Events.Count));
            Assert.True(network.Wire.Count == wire, $"mutation {mutations} of a {genuine.Type} made {to.Name} send");
            mutations++;
        }
        Assert.True(mutations > (mayBeTaken is null ? genuine.Packet.Length * 8 : genuine.Packet.Length));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Initiations(bool ik)
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(600);
        using var _n = network;
        WirePacket initiation = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, ik ? server.Identity.PublicKey : null, network.Now));
        AllDropped(network, initiation, server);
        network.DeliverNow(initiation.Packet, initiation.From, server);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Responses(bool ik)
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(601);
        using var _n = network;
        WirePacket response = Hold(network, p => p.Type == DatagramPacketType.Response, () =>
        {
            client.Endpoint.Connect(server.Address, ik ? server.Identity.PublicKey : null, network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(50));
        });
        AllDropped(network, response, client);
        network.DeliverNow(response.Packet, response.From, client);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any() && server.EventsOf(DatagramEventKind.Accepted).Any(), Second));
    }

    [Fact]
    public void Finishes()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(602);
        using var _n = network;
        WirePacket finish = Hold(network, p => p.Type == DatagramPacketType.Finish, () =>
        {
            client.Endpoint.Connect(server.Address, null, network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(50));
        });
        AllDropped(network, finish, server);
        network.DeliverNow(finish.Packet, finish.From, server);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Any(), Second));
    }

    [Fact]
    public void CookieReplies()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(603, o => o.AddressValidation = DatagramAddressValidation.Always);
        using var _n = network;
        WirePacket reply = Hold(network, p => p.Type == DatagramPacketType.CookieReply, () =>
        {
            client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(30));
        });
        // A CookieReply is authenticated only by its echo of the Initiation's mac1: a damaged token inside an intact
        // header is taken (the server then refuses the token and sends a fresh reply after the next retransmission).
        byte[] header = reply.Packet[..24];
        AllDropped(network, reply, client, mutated => mutated.Length == reply.Packet.Length && mutated.AsSpan(0, 24).SequenceEqual(header));
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), 3 * Second));
    }

    [Fact]
    public void DataPackets()
    {
        var (network, client, server, handle, _) = Connected(604, ik: true);
        using var _n = network;
        WirePacket data = Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, new byte[100], network.Now));
        AllDropped(network, data, server);
        network.DeliverNow(data.Packet, data.From, server);
        Assert.Equal(100, Assert.Single(server.Received).Payload.Length);
    }
}
