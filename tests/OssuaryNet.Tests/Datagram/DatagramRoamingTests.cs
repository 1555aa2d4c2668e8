using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Roaming: the peer's address follows its newest authenticated packet, and is validated before it gets more than 3× what it sent.</summary>
public sealed class DatagramRoamingTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void TheServerFollowsAClientThatMovesAndValidatesTheNewAddress()
    {
        var (network, client, server, handle, accepted) = Connected(300, ik: true);
        using var _n = network;
        byte[] oldAddress = client.Address;
        network.Rebind(client);
        client.Endpoint.Send(handle, "from elsewhere"u8, network.Now);
        network.RunFor(Second);
        DatagramConnectionInfo info = server.Endpoint.GetInfo(accepted);
        Assert.Equal(client.Address, info.Address);
        Assert.True(info.AddressValidated); // the path challenge was answered from there
        Assert.Single(server.EventsOf(DatagramEventKind.PeerMoved));
        Assert.Equal(1, server.Endpoint.Statistics.RoamingEvents);
        server.Endpoint.Send(accepted, "found you"u8, network.Now);
        network.RunFor(Second);
        Assert.Equal("found you"u8.ToArray(), client.Received.Last().Payload);
        Assert.DoesNotContain(network.Wire.Where(p => p.At > network.Wire.First(q => q.From.SequenceEqual(client.Address)).At), p => p.To.SequenceEqual(oldAddress));
    }

    [Fact]
    public void LatePacketsFromTheOldAddressDoNotMoveThePeerBack()
    {
        var (network, client, server, handle, accepted) = Connected(301, ik: true);
        using var _n = network;
        WirePacket old = Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, "old"u8, network.Now));
        network.Rebind(client);
        client.Endpoint.Send(handle, "new"u8, network.Now);
        network.RunFor(Second);
        network.DeliverNow(old.Packet, old.From, server); // authentic, but not the newest counter
        Assert.Equal(client.Address, server.Endpoint.GetInfo(accepted).Address);
        Assert.Equal(["new"u8.ToArray(), "old"u8.ToArray()], server.Received.Select(r => r.Payload));
        Assert.Single(server.EventsOf(DatagramEventKind.PeerMoved));
    }

    [Fact]
    public void SpoofedPacketsDoNotMoveThePeer()
    {
        var (network, client, server, handle, accepted) = Connected(302, ik: true);
        using var _n = network;
        WirePacket data = Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, "x"u8, network.Now));
        byte[] forged = (byte[])data.Packet.Clone();
        forged[^1] ^= 1;
        network.DeliverNow(forged, [0xBA, 0xD0], server);
        Assert.Equal(client.Address, server.Endpoint.GetInfo(accepted).Address);
        Assert.Empty(server.EventsOf(DatagramEventKind.PeerMoved));
    }

    [Fact]
    public void AnUnvalidatedAddressGetsAtMostThreeTimesWhatItSentAndFailedValidationReverts()
    {
        var (network, client, server, handle, accepted) = Connected(303, ik: true);
        using var _n = network;
        byte[] oldAddress = client.Address;
        network.Rebind(client);
        byte[] newAddress = client.Address;
        // The client's one packet from the new address arrives; nothing it sends after does (its path responses neither).
        bool firstFromNewAddress = true;
        network.Tap = p =>
        {
            if (!p.From.SequenceEqual(newAddress))
            {
                return true;
            }
            bool pass = firstFromNewAddress;
            firstFromNewAddress = false;
            return pass;
        };
        client.Endpoint.Send(handle, "hello"u8, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(50));
        for (int i = 0; i < 20; i++)
        {
            server.Endpoint.Send(accepted, new byte[100], network.Now);
        }
        network.RunFor(TimeSpan.FromMilliseconds(50));
        long received = network.Deliveries.Where(p => p.From.SequenceEqual(newAddress)).Sum(p => (long)p.Packet.Length);
        long sentThere = network.Wire.Where(p => p.To.SequenceEqual(newAddress) && p.From.SequenceEqual(server.Address)).Sum(p => (long)p.Packet.Length);
        Assert.True(received > 0);
        Assert.InRange(sentThere, 1, 3 * received);
        Assert.False(server.Endpoint.GetInfo(accepted).AddressValidated);

        network.RunFor(TimeSpan.FromSeconds(8)); // three challenges, 1 + 2 + 4 s
        DatagramConnectionInfo info = server.Endpoint.GetInfo(accepted);
        Assert.Equal(oldAddress, info.Address);
        Assert.True(info.AddressValidated);
        Assert.Equal(2, server.EventsOf(DatagramEventKind.PeerMoved).Count());
        sentThere = network.Wire.Where(p => p.To.SequenceEqual(newAddress) && p.From.SequenceEqual(server.Address)).Sum(p => (long)p.Packet.Length);
        Assert.InRange(sentThere, 1, 3 * received); // the later challenges were skipped rather than break the limit
        // The datagrams held for the unvalidated address (the newest 16 of 20) went to the validated one.
        Assert.Equal(16, network.Wire.Count(p => p.To.SequenceEqual(oldAddress) && p.From.SequenceEqual(server.Address) && p.Packet.Length == 16 + 100 + 1 + 16));
        Assert.Equal(4, server.Endpoint.Statistics.QueuedDatagramsDropped);
    }

    [Fact]
    public void RoamingCanBeTurnedOff()
    {
        var (network, client, server, handle, accepted) = Connected(304, ik: true, server: o => o.AllowRoaming = false);
        using var _n = network;
        byte[] oldAddress = client.Address;
        network.Rebind(client);
        client.Endpoint.Send(handle, "still delivered"u8, network.Now);
        network.RunFor(Second);
        Assert.Equal("still delivered"u8.ToArray(), server.Received.Last().Payload);
        Assert.Equal(oldAddress, server.Endpoint.GetInfo(accepted).Address);
        Assert.Empty(server.EventsOf(DatagramEventKind.PeerMoved));
    }
}
