using System.Buffers.Binary;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Every drop reason: one fault injected, exactly that counter moves by one, and nothing else is dropped.</summary>
public sealed class DatagramDropReasonTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static WirePacket HeldData(SimulatedNetwork network, SimulatedNode client, SimulatedNode server, DatagramHandle handle, string text = "payload") =>
        Hold(network, p => p.IsDataTo(server), () => client.Endpoint.Send(handle, System.Text.Encoding.ASCII.GetBytes(text), network.Now));

    [Fact]
    public void Malformed()
    {
        var (network, _, server, _, _) = Connected(100, ik: true);
        using var _n = network;
        byte[] shortData = new byte[20];
        shortData[0] = 5;
        shortData[1] = 1;
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.Malformed, () => network.DeliverNow(shortData, [9], server));
    }

    [Fact]
    public void UnknownTypeOrVersion()
    {
        var (network, _, server, _, _) = Connected(101, ik: true);
        using var _n = network;
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.UnknownTypeOrVersion, () => network.DeliverNow([9, 1, 0, 0], [9], server));
        byte[] version2 = new byte[40];
        (version2[0], version2[1]) = (5, 2);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.UnknownTypeOrVersion, () => network.DeliverNow(version2, [9], server));
    }

    [Fact]
    public void BadMac1()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(102);
        using var _n = network;
        WirePacket initiation = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        initiation.Packet[^1] ^= 1;
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.BadMac1, () => network.DeliverNow(initiation.Packet, initiation.From, server));
    }

    [Fact]
    public void UnknownSession()
    {
        var (network, client, server, handle, _) = Connected(103, ik: true);
        using var _n = network;
        WirePacket data = HeldData(network, client, server, handle);
        BinaryPrimitives.WriteUInt32LittleEndian(data.Packet.AsSpan(4), BinaryPrimitives.ReadUInt32LittleEndian(data.Packet.AsSpan(4)) ^ 0x5a5a);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.UnknownSession, () => network.DeliverNow(data.Packet, data.From, server));
    }

    [Fact]
    public void ExpiredKeyPair()
    {
        var (network, client, server, handle, _) = Connected(104, ik: true);
        using var _n = network;
        WirePacket data = HeldData(network, client, server, handle);
        network.JumpClock(TimeSpan.FromSeconds(181));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.ExpiredKeyPair, () => server.Endpoint.HandleDatagram(data.Packet, data.From, network.Now));
        Assert.Empty(server.Received);
    }

    [Fact]
    public void CounterLimit()
    {
        var (network, client, server, handle, _) = Connected(105, ik: true);
        using var _n = network;
        WirePacket data = HeldData(network, client, server, handle);
        BinaryPrimitives.WriteUInt64LittleEndian(data.Packet.AsSpan(8), DatagramKeyPair.MessageLimit);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.CounterLimit, () => network.DeliverNow(data.Packet, data.From, server));
    }

    [Fact]
    public void Duplicate()
    {
        var (network, client, server, handle, _) = Connected(106, ik: true);
        using var _n = network;
        WirePacket data = HeldData(network, client, server, handle);
        network.DeliverNow(data.Packet, data.From, server);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.Duplicate, () => network.DeliverNow(data.Packet, data.From, server));
        Assert.Single(server.Received);
    }

    [Fact]
    public void BehindWindow()
    {
        var (network, client, server, handle, _) = Connected(107, ik: true);
        using var _n = network;
        WirePacket data = HeldData(network, client, server, handle);
        for (int i = 0; i < (int)ReplayWindow.Size + 2; i++)
        {
            client.Endpoint.Send(handle, "x"u8, network.Now);
        }
        network.RunFor(Second);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.BehindWindow, () => network.DeliverNow(data.Packet, data.From, server));
    }

    [Fact]
    public void AuthenticationFailed()
    {
        var (network, client, server, handle, accepted) = Connected(108, ik: true);
        using var _n = network;
        WirePacket data = HeldData(network, client, server, handle);
        data.Packet[20] ^= 0x10;
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.AuthenticationFailed, () => network.DeliverNow(data.Packet, data.From, server));
        Assert.Equal(1, server.Endpoint.GetInfo(accepted).AuthenticationFailures);
    }

    [Fact]
    public void RateLimited()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(109, o => o.MaxHalfOpenPerAddress = 16); // the table is not what refuses here
        using var _n = network;
        for (int i = 0; i < 8; i++)
        {
            client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now); // a burst of eight is consumed
        }
        network.RunFor(TimeSpan.FromMilliseconds(25)); // consumed at 20 ms
        Assert.Equal(8, server.EventsOf(DatagramEventKind.VerificationRequired).Count());
        // A ninth IK Initiation from the same key 5 ms later: a new timestamp, but the key's bucket is empty.
        WirePacket ninth = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.RateLimited, () => network.DeliverNow(ninth.Packet, ninth.From, server));
    }

    [Fact]
    public void TableFull()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(110, o => { o.MaxHalfOpenPerAddress = 1; o.AddressValidation = DatagramAddressValidation.Never; });
        using var _n = network;
        server.Verifier = null;
        client.Endpoint.Connect(server.Address, null, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(30)); // the first Initiation is half-open at the server
        WirePacket second = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, null, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.TableFull, () => network.DeliverNow(second.Packet, second.From, server));
    }

    [Fact]
    public void Oversize()
    {
        var (network, _, server, _, _) = Connected(111, ik: true);
        using var _n = network;
        byte[] big = new byte[1201];
        big[0] = 5;
        big[1] = 1;
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.Oversize, () => network.DeliverNow(big, [9], server));
    }

    [Fact]
    public void ReceiveQueueFull()
    {
        var (network, client, server, handle, accepted) = Connected(112, ik: true, server: o => o.ReceiveQueueLimit = 2);
        using var _n = network;
        server.AutoReceive = false;
        client.Endpoint.Send(handle, "1"u8, network.Now);
        client.Endpoint.Send(handle, "2"u8, network.Now);
        network.RunFor(Second);
        WirePacket third = HeldData(network, client, server, handle, "3");
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.ReceiveQueueFull, () => network.DeliverNow(third.Packet, third.From, server));
        byte[] buffer = new byte[2000];
        Assert.True(server.Endpoint.TryReceive(accepted, buffer, out int length, out _));
        Assert.Equal("1"u8.ToArray(), buffer[..length]);
    }

    [Fact]
    public void HandshakeFailed()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(114, o => o.AddressValidation = DatagramAddressValidation.Never);
        using var _n = network;
        byte[] key = new byte[32];
        Mac1.DeriveKey("ossuary"u8, key);
        byte[] packet = new byte[1200];
        // XX message 1 is a bare ephemeral key: the all-zero one is of low order, refused at the first DH.
        int length = DatagramPacket.WriteInitiation(packet, 1, 0x1234, default, new byte[32], key);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.HandshakeFailed, () => network.DeliverNow(packet[..length], [9], server));
        // IK message 1 that does not decrypt under the responder's key.
        Mac1.DeriveKey(server.Identity.PublicKey.Bytes, key);
        byte[] garbage = new byte[140];
        new Random(1).NextBytes(garbage);
        length = DatagramPacket.WriteInitiation(packet, 2, 0x1235, default, garbage, key);
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.HandshakeFailed, () => network.DeliverNow(packet[..length], [9], server));
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
    }

    [Fact]
    public void StaleTimestamp()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(115);
        using var _n = network;
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        network.Pump();
        WirePacket initiation = network.Wire[0];
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        network.RunFor(TimeSpan.FromSeconds(20)); // the half-open record of it has expired: only the timestamp knows it
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.StaleTimestamp, () => network.DeliverNow(initiation.Packet, [77], server));
        Assert.Single(server.EventsOf(DatagramEventKind.Accepted));
    }

    [Fact]
    public void ConnectionLimit()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(117, o => (o.MaxConnections, o.MaxConnectionsPerSource, o.MaxConnectionsPerPeer) = (1, 10, 10));
        using var _n = network;
        DatagramHandle first = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Any(), Second));
        client.Endpoint.Send(first, "used"u8, network.Now); // a used connection never gives its place
        network.RunFor(TimeSpan.FromMilliseconds(30));
        // A second connection (IK, and XX) does not fit; a rekey of the first still does.
        WirePacket ik = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.ConnectionLimit, () => network.DeliverNow(ik.Packet, ik.From, server));
        WirePacket xx = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, null, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.ConnectionLimit, () => network.DeliverNow(xx.Packet, xx.From, server));
        Assert.Equal(1, server.Endpoint.Statistics.Connections);
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
        Assert.Throws<InvalidOperationException>(() => server.Endpoint.Connect(client.Address, client.Identity.PublicKey, network.Now));
        network.RunFor(TimeSpan.FromSeconds(121));
        client.Endpoint.Send(first, "after two minutes"u8, network.Now); // the first connection rekeys at the limit
        network.RunFor(Second);
        Assert.Equal(1, server.Endpoint.Statistics.Rekeys);
        Assert.Equal("after two minutes"u8.ToArray(), server.Received.Last().Payload);
    }

    [Fact]
    public void UnsupportedPattern()
    {
        // A hybrid Initiation at a responder whose post-quantum policy is off; then a classical one at a responder that requires hybrid.
        var (network, client, server) = DatagramHandshakeTests.Pair(118, o => o.MaxDatagramSize = 1400, o => { o.PostQuantum = OssuaryPostQuantum.Preferred; o.MaxDatagramSize = 1400; });
        using var _n = network;
        WirePacket hybrid = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.UnsupportedPattern, () => network.DeliverNow(hybrid.Packet, hybrid.From, server));
        SimulatedNode strict = network.AddNode("strict", o => { o.AcceptConnections = true; o.PostQuantum = OssuaryPostQuantum.Required; o.MaxDatagramSize = 1400; });
        SimulatedNode classical = network.AddNode("classical");
        WirePacket plain = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => classical.Endpoint.Connect(strict.Address, strict.Identity.PublicKey, network.Now));
        DropsExactlyOnce(strict.Endpoint, DatagramDropReason.UnsupportedPattern, () => network.DeliverNow(plain.Packet, plain.From, strict));
        Assert.Equal(0, strict.Endpoint.Statistics.HalfOpenHandshakes);
    }

    [Fact]
    public void Unexpected()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(116);
        using var _n = network;
        WirePacket initiation = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => server.Endpoint.Connect(client.Address, client.Identity.PublicKey, network.Now));
        DropsExactlyOnce(client.Endpoint, DatagramDropReason.Unexpected, () => network.DeliverNow(initiation.Packet, initiation.From, client)); // the client does not accept
    }

    [Fact]
    public void SourceLimit()
    {
        // Two ports of one IP are one source: its one connection, used, leaves no room for a second from another port.
        var (network, client, server) = DatagramHandshakeTests.Pair(118, o => (o.AddressFormat, o.MaxConnectionsPerSource) = (DatagramAddressFormat.SocketAddress, 1));
        using var _n = network;
        client.Address = SocketAddresses.Of("10.0.0.1", 1000);
        DatagramHandle first = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Any(), Second));
        client.Endpoint.Send(first, "used"u8, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(30));
        SimulatedNode other = network.AddNode("same host, other port");
        other.Address = SocketAddresses.Of("10.0.0.1", 1001);
        WirePacket initiation = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => other.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.SourceLimit, () => network.DeliverNow(initiation.Packet, initiation.From, server));
        Assert.Equal(1, server.Endpoint.Statistics.Connections);
    }

    [Fact]
    public void PeerLimit()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(119, o => o.MaxConnectionsPerPeer = 1);
        using var _n = network;
        DatagramHandle first = client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Any(), Second));
        client.Endpoint.Send(first, "used"u8, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(30));
        WirePacket second = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        DropsExactlyOnce(server.Endpoint, DatagramDropReason.PeerLimit, () => network.DeliverNow(second.Packet, second.From, server));
        Assert.Equal(1, server.Endpoint.Statistics.Connections);
    }

    [Fact]
    public void EveryReasonHasItsTest()
    {
        string[] tested = typeof(DatagramDropReasonTests).GetMethods().Select(m => m.Name).ToArray();
        Assert.All(Enum.GetNames<DatagramDropReason>(), reason => Assert.Contains(reason, tested));
    }
}
