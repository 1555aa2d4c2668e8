using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Post-quantum hybrid handshakes in datagram mode, over the simulated network.</summary>
public sealed class DatagramHybridTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static void Hybrid(DatagramOptions options, OssuaryPostQuantum policy = OssuaryPostQuantum.Preferred)
    {
        options.PostQuantum = policy;
        options.MaxDatagramSize = DatagramOptions.MinHybridDatagramSize;
    }

    [Theory]
    [InlineData(false, OssuarySuite.ChaChaPolyBlake2b)]
    [InlineData(false, OssuarySuite.AesGcmSha256)]
    [InlineData(true, OssuarySuite.ChaChaPolyBlake2b)]
    [InlineData(true, OssuarySuite.AesGcmSha256)]
    public void HybridHandshakesConnectAndCarryDataBothWays(bool ik, OssuarySuite suite)
    {
        var (network, client, server, clientHandle, serverHandle) = DatagramScenario.Connected(31, ik,
            server: o => { Hybrid(o); o.Suite = suite; }, client: o => { Hybrid(o, OssuaryPostQuantum.Required); o.Suite = suite; });
        using var _ = network;
        OssuaryHandshakePattern expected = ik ? OssuaryHandshakePattern.IKhfs : OssuaryHandshakePattern.XXhfs;
        Assert.Equal(expected, client.Endpoint.GetInfo(clientHandle).Pattern);
        Assert.Equal(expected, server.Endpoint.GetInfo(serverHandle).Pattern);
        Assert.Equal(DatagramSendResult.Sent, client.Endpoint.Send(clientHandle, "up"u8, network.Now));
        Assert.Equal(DatagramSendResult.Sent, server.Endpoint.Send(serverHandle, "down"u8, network.Now));
        Assert.True(network.RunUntil(() => server.ReceivedOn(serverHandle).Any() && client.ReceivedOn(clientHandle).Any(), Second));
        Assert.Equal("up"u8.ToArray(), server.ReceivedOn(serverHandle).Single());
        Assert.Equal("down"u8.ToArray(), client.ReceivedOn(clientHandle).Single());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void HybridInitiationsExceed1200BytesAndTheResponseIsNeverLargerThanWhatItAnswers(bool ik)
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(32, server: o => Hybrid(o), client: o => Hybrid(o));
        using var _ = network;
        var sizes = new List<(DatagramPacketType Type, int Length)>();
        network.Tap = packet => { sizes.Add((packet.Type, packet.Packet.Length)); return true; };
        client.Endpoint.Connect(server.Address, ik ? server.Identity.PublicKey : null, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        int initiation = sizes.First(s => s.Type == DatagramPacketType.Initiation).Length;
        int response = sizes.First(s => s.Type == DatagramPacketType.Response).Length;
        // Type, version, pattern, token length, session id (8), Noise length (2), message 1, mac1 (16); no token here.
        // XXhfs message 1: e and the KEM key in clear (1216); IKhfs: e, encrypted KEM key, encrypted s, payload (1316).
        Assert.Equal(ik ? 1342 : 1242, initiation);
        Assert.True(response <= initiation, $"Response {response} B > Initiation {initiation} B");
    }

    [Theory]
    [InlineData(OssuaryPostQuantum.Off, OssuaryPostQuantum.Preferred)]   // a hybrid Initiation at a classical responder
    [InlineData(OssuaryPostQuantum.Required, OssuaryPostQuantum.Off)]    // a classical Initiation at a responder that requires hybrid
    public void AnInitiationOfAnExcludedVariantIsDroppedAndCountedAndNeverFallsBack(OssuaryPostQuantum serverPolicy, OssuaryPostQuantum clientPolicy)
    {
        var (network, client, server) = DatagramHandshakeTests.Pair(33,
            server: o => { o.PostQuantum = serverPolicy; o.MaxDatagramSize = 1400; },
            client: o => { o.PostQuantum = clientPolicy; o.MaxDatagramSize = 1400; });
        using var _ = network;
        client.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        network.RunFor(10 * Second); // the Initiation and its retransmissions
        Assert.Empty(client.EventsOf(DatagramEventKind.Connected));
        Assert.Empty(server.EventsOf(DatagramEventKind.Accepted));
        Assert.True(server.Endpoint.Statistics.Dropped(DatagramDropReason.UnsupportedPattern) >= 2);
        Assert.Equal(0, server.Endpoint.Statistics.HandshakesCompleted);
    }

    [Fact]
    public void APreferringResponderAcceptsBothKindsAndTheVerifierSeesWhichOne()
    {
        var (network, classicalClient, server) = DatagramHandshakeTests.Pair(34, server: o => Hybrid(o));
        using var _ = network;
        SimulatedNode hybridClient = network.AddNode("hybrid", o => Hybrid(o));
        var seen = new List<OssuaryHandshakePattern>();
        server.Verifier = peer => { seen.Add(peer.Pattern); return PeerVerdict.Accept(); };
        classicalClient.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        hybridClient.Endpoint.Connect(server.Address, server.Identity.PublicKey, network.Now);
        Assert.True(network.RunUntil(() => server.EventsOf(DatagramEventKind.Accepted).Count() == 2, 2 * Second));
        Assert.Equal([OssuaryHandshakePattern.IK, OssuaryHandshakePattern.IKhfs], seen.Order());
    }

    [Fact]
    public void KnownHostsRefuseAClassicalHandshakeFromAPeerOnRecordAsHybrid()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("ossuary-").FullName, "known_hosts");
        var knownHosts = new KnownHosts(path);
        var (network, client, server) = DatagramHandshakeTests.Pair(35, server: o => Hybrid(o), client: o => Hybrid(o));
        using var _ = network;
        client.Verifier = peer => knownHosts.Verify(peer with { Endpoint = "server.test:7000" });
        client.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        Assert.True(network.RunUntil(() => client.EventsOf(DatagramEventKind.Connected).Any(), Second));
        Assert.Contains(" pq", File.ReadAllText(path));

        // The same server key, now met classically by a preferring endpoint: refused as a downgrade.
        SimulatedNode later = network.AddNode("later", o => Hybrid(o));
        var verdicts = new List<PeerVerdict>();
        later.Verifier = peer =>
        {
            PeerVerdict verdict = knownHosts.Verify(peer with { Endpoint = "server.test:7000", Pattern = OssuaryHandshakePattern.XX });
            verdicts.Add(verdict);
            return verdict;
        };
        later.Endpoint.Connect(server.Address, peerKey: null, network.Now);
        Assert.True(network.RunUntil(() => verdicts.Count > 0, Second));
        Assert.Equal(OssuaryErrorCode.PostQuantumDowngrade, verdicts[0].ErrorCode);
    }

    [Fact]
    public void HybridPolicyNeedsRoomForItsInitiations()
    {
        var options = new DatagramOptions { Identity = TestKeys.Client, PostQuantum = OssuaryPostQuantum.Preferred };
        ArgumentException error = Assert.Throws<ArgumentException>(() => new DatagramEndpoint(options, TimeSpan.Zero));
        Assert.Contains("1400", error.Message);
        options.MaxDatagramSize = 1400;
        using var endpoint = new DatagramEndpoint(options, TimeSpan.Zero);
        Assert.Equal(1400 - 58 - (32 + 48 + 16 + 20) - 1200, endpoint.MaxEarlyDataSize);
    }
}
