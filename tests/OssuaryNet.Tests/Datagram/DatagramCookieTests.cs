using System.Buffers.Binary;
using OssuaryNet.Crypto;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;
using static OssuaryNet.Tests.Datagram.Simulation.DatagramScenario;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Cookies and load: no Diffie-Hellman and no state for senders that have not proved their address.</summary>
public sealed class DatagramCookieTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>Genuine Initiations (XX or IK, distinct keys and session ids) to replay from spoofed addresses.</summary>
    private static List<byte[]> GenuineInitiations(SimulatedNetwork network, SimulatedNode server, int count, bool ik)
    {
        var initiations = new List<byte[]>();
        SimulatedNode attacker = network.AddNode("attacker-" + network.Nodes.Count);
        network.Tap = p => { if (p.Type == DatagramPacketType.Initiation && p.From.SequenceEqual(attacker.Address)) { initiations.Add(p.Packet); return false; } return true; };
        for (int i = 0; i < count; i++)
        {
            attacker.Endpoint.Connect(server.Address, ik ? server.Identity.PublicKey : null, network.Now);
            network.Pump();
            network.JumpClock(TimeSpan.FromMilliseconds(1)); // newer IK timestamps
        }
        network.Tap = null;
        return initiations;
    }

    private static byte[] Spoofed(int i) => [0x5F, (byte)(i >> 16), (byte)(i >> 8), (byte)i];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFloodOfSpoofedInitiationsCostsNoDiffieHellmanAndNoStateOnceUnderLoad(bool ik)
    {
        var network = new SimulatedNetwork(400);
        using var _n = network;
        SimulatedNode server = network.AddNode("server", o => { o.AcceptConnections = true; o.LoadInitiationsPerSecond = 20; });
        server.Verifier = null; // IK floods would otherwise wait on verdicts; they must not get that far
        List<byte[]> flood = GenuineInitiations(network, server, 300, ik);

        int i = 0;
        for (; i < 20; i++) // up to the rate: processed, each with its DH
        {
            server.Endpoint.HandleDatagram(flood[i], Spoofed(i), network.Now);
        }
        long halfOpenBefore = server.Endpoint.Statistics.HalfOpenHandshakes;
        long dhBefore = X25519.AgreementsOnThisThread;
        for (; i < flood.Count; i++)
        {
            server.Endpoint.HandleDatagram(flood[i], Spoofed(i), network.Now);
        }
        Assert.Equal(dhBefore, X25519.AgreementsOnThisThread);
        Assert.Equal(halfOpenBefore, server.Endpoint.Statistics.HalfOpenHandshakes);
        Assert.Equal(flood.Count - 20, server.Endpoint.Statistics.CookieRepliesSent);
        Assert.Equal(1, server.Endpoint.Statistics.TimesUnderLoad);
    }

    [Fact]
    public void AGenuineInitiatorCompletesAfterOneCookieReply()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(401, o => o.AddressValidation = DatagramAddressValidation.Always);
        using var _n = network;
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any() && server.EventsOf(DatagramEventKind.Accepted).Any(), Second));
        Assert.Equal(1, server.Endpoint.Statistics.CookieRepliesSent);
        Assert.Equal(1, server.Endpoint.Statistics.TokensAccepted);
        Assert.Equal([DatagramPacketType.Initiation, DatagramPacketType.CookieReply, DatagramPacketType.Initiation, DatagramPacketType.Response],
            network.Wire.Take(4).Select(p => p.Type));
        // The same Noise message, now with the token.
        Assert.Equal(network.Wire[0].Packet.AsSpan(10, 100).ToArray(), network.Wire[2].Packet.AsSpan(10 + AddressTokens.TokenSize, 100).ToArray());
        Assert.True(server.Endpoint.GetInfo(server.Accepted).AddressValidated);
    }

    [Fact]
    public void ATokenIsBoundToItsAddressAndSessionId()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(402, o => o.AddressValidation = DatagramAddressValidation.Always);
        using var _n = network;
        WirePacket withToken = InitiationWithToken(network, client, server);

        // Under another address, or another session id, the token is forged: counted, ignored, and the Initiation gets a
        // fresh CookieReply (no DH, no state) as one without a token would.
        long cookies = server.Endpoint.Statistics.CookieRepliesSent;
        long dh = OssuaryNet.Crypto.X25519.AgreementsOnThisThread;
        network.DeliverNow(withToken.Packet, [0x0E, 0x0E], server);
        byte[] otherId = Rebuilt(withToken.Packet, server.Identity.PublicKey, id => id ^ 1);
        network.DeliverNow(otherId, withToken.From, server);
        Assert.Equal(2, server.Endpoint.Statistics.TokensForged);
        Assert.Equal(cookies + 2, server.Endpoint.Statistics.CookieRepliesSent);
        Assert.Equal(dh, OssuaryNet.Crypto.X25519.AgreementsOnThisThread);
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
        Assert.Equal(0, server.Endpoint.Statistics.TotalDropped);
        network.DeliverNow(withToken.Packet, withToken.From, server); // the genuine one still works
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
    }

    /// <summary>Connects through a CookieReply and keeps back the Initiation that carries the token.</summary>
    private static WirePacket InitiationWithToken(SimulatedNetwork network, SimulatedNode client, SimulatedNode server) =>
        Hold(network, p => p.Type == DatagramPacketType.Initiation && p.Packet[3] != 0, () =>
        {
            client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
            network.RunFor(TimeSpan.FromMilliseconds(100));
        });

    /// <summary>The Initiation with its session id changed and mac1 recomputed: what an attacker who knows the responder's key can build.</summary>
    private static byte[] Rebuilt(byte[] initiation, OssuaryPublicKey responder, Func<uint, uint> changeId)
    {
        byte[] copy = (byte[])initiation.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(4), changeId(BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(4))));
        byte[] key = new byte[32];
        Mac1.DeriveKey(responder.Bytes, key);
        Mac1.Compute(key, copy.AsSpan(0, copy.Length - 16), copy.AsSpan(copy.Length - 16));
        return copy;
    }

    [Fact]
    public void ATokenOfThePreviousEpochIsAcceptedAndAnOlderOneRefused()
    {
        foreach ((TimeSpan delay, bool accepted) in ((TimeSpan, bool)[])[(TimeSpan.FromSeconds(130), true), (TimeSpan.FromSeconds(250), false)])
        {
            var (network, client, server) = DatagramHandshakeTests.Pair(403, o => o.AddressValidation = DatagramAddressValidation.Always);
            using var _n = network;
            WirePacket withToken = InitiationWithToken(network, client, server);
            network.JumpClock(delay);
            server.Endpoint.HandleDatagram(withToken.Packet, withToken.From, network.Now);
            Assert.Equal(accepted ? 1 : 0, server.Endpoint.Statistics.TokensAccepted);
            Assert.Equal(accepted ? 0 : 1, server.Endpoint.Statistics.TokensExpired);
        }
    }

    [Fact]
    public void AForgedCookieReplyIsIgnored()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(404);
        using var _n = network;
        WirePacket initiation = Hold(network, p => p.Type == DatagramPacketType.Initiation, () => client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now));
        byte[] reply = new byte[24 + AddressTokens.TokenSize];
        DatagramPacket.WriteCookieReply(reply, BinaryPrimitives.ReadUInt32LittleEndian(initiation.Packet.AsSpan(4)), new byte[16], new byte[AddressTokens.TokenSize]);
        DropsExactlyOnce(client.Endpoint, DatagramDropReason.Unexpected, () => network.DeliverNow(reply, server.Address, client));
        Assert.Equal(1, network.Wire.Count(p => p.Type == DatagramPacketType.Initiation)); // no rebuilt Initiation went out
        network.DeliverNow(initiation.Packet, initiation.From, server);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
    }

    [Fact]
    public void OnlyOneCookieReplyIsTakenPerAttempt()
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(405, o => o.AddressValidation = DatagramAddressValidation.Always);
        using var _n = network;
        WirePacket reply = default!;
        network.Tap = p => { if (p.Type == DatagramPacketType.CookieReply && reply is null) { reply = p; } return true; };
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        network.RunFor(TimeSpan.FromMilliseconds(50)); // the reply arrived at 40 ms and was taken
        DropsExactlyOnce(client.Endpoint, DatagramDropReason.Unexpected, () => network.DeliverNow(reply.Packet, reply.From, client));
    }

    [Fact]
    public void AlwaysModeAllocatesNothingForSendersWithoutAToken()
    {
        var network = new SimulatedNetwork(406);
        using var _n = network;
        SimulatedNode server = network.AddNode("server", o => { o.AcceptConnections = true; o.AddressValidation = DatagramAddressValidation.Always; });
        List<byte[]> flood = GenuineInitiations(network, server, 64, ik: false);
        byte[] packet = new byte[1200], address = new byte[64];
        byte[][] sources = Enumerable.Range(0, 64).Select(Spoofed).ToArray();
        void Round()
        {
            for (int i = 0; i < flood.Count; i++)
            {
                server.Endpoint.HandleDatagram(flood[i], sources[i], network.Now);
                while (server.Endpoint.TryPollTransmit(packet, address, out _, out _))
                {
                }
            }
        }
        Round(); // warms pools and queues
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 20; round++)
        {
            Round();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(21 * 64, server.Endpoint.Statistics.CookieRepliesSent);
        Assert.Equal(0, server.Endpoint.Statistics.HalfOpenHandshakes);
    }
}
