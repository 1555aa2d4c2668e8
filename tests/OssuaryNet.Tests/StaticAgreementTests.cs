using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// An IK client reuses the static-static DH result for a server it has contacted before (as WireGuard precomputes it);
/// the responder never does, and the results are wiped with the key pair. Every test uses its own key pairs, since the
/// counters belong to the key pair.
/// </summary>
public class StaticAgreementTests
{
    private static ConnectionPair Connect(OssuaryKeyPair client, OssuaryKeyPair server, bool ik = true)
    {
        var pair = new ConnectionPair(
            new OssuaryClientOptions { StaticKeyPair = client, PeerVerifier = PeerVerifier.Pinned(server.PublicKey), ServerKey = ik ? server.PublicKey : null },
            new OssuaryServerOptions { StaticKeyPair = server, PeerVerifier = PeerVerifier.Pinned(client.PublicKey) });
        pair.Pump();
        Assert.Equal(OssuaryConnectionState.Established, pair.Client.State);
        Assert.Equal(OssuaryConnectionState.Established, pair.Server.State);
        // Both ends derived the same keys: data crosses both ways.
        pair.ClientSends("ping"u8);
        pair.ServerSends("pong"u8);
        pair.Pump();
        Assert.Equal("ping"u8.ToArray(), pair.ServerReceived);
        Assert.Equal("pong"u8.ToArray(), pair.ClientReceived);
        return pair;
    }

    [Fact]
    public void ReconnectingIkClientComputesTheStaticAgreementOnce()
    {
        using var client = OssuaryKeyPair.Generate();
        using var server = OssuaryKeyPair.Generate();
        var hashes = new HashSet<string>();
        for (int i = 0; i < 3; i++)
        {
            using ConnectionPair pair = Connect(client, server);
            hashes.Add(Convert.ToHexString(pair.Client.HandshakeHash));
        }
        Assert.Equal(3, hashes.Count); // fresh ephemeral keys each time: three different sessions
        Assert.Equal(1, client.StaticAgreementsComputed);
        Assert.Equal(0, server.StaticAgreementsComputed); // responders compute ss inside the handshake, uncached
    }

    [Fact]
    public void XXHasNoStaticAgreement()
    {
        using var client = OssuaryKeyPair.Generate();
        using var server = OssuaryKeyPair.Generate();
        Connect(client, server, ik: false).Dispose();
        Assert.Equal(0, client.StaticAgreementsComputed);
    }

    [Fact]
    public void CacheKeepsTheLastFourServersAndEvictedOnesStillWork()
    {
        using var client = OssuaryKeyPair.Generate();
        OssuaryKeyPair[] servers = Enumerable.Range(0, 5).Select(_ => OssuaryKeyPair.Generate()).ToArray();
        try
        {
            foreach (OssuaryKeyPair server in servers)
            {
                Connect(client, server).Dispose();
            }
            Assert.Equal(5, client.StaticAgreementsComputed); // the fifth replaced the first
            Connect(client, servers[4]).Dispose();
            Connect(client, servers[1]).Dispose();
            Assert.Equal(5, client.StaticAgreementsComputed);
            Connect(client, servers[0]).Dispose(); // evicted: computed again, and the handshake is still right
            Assert.Equal(6, client.StaticAgreementsComputed);
        }
        finally
        {
            foreach (OssuaryKeyPair server in servers)
            {
                server.Dispose();
            }
        }
    }

    [Fact]
    public void DisposeWipesCachedAgreements()
    {
        var client = OssuaryKeyPair.Generate();
        using var server = OssuaryKeyPair.Generate();
        Connect(client, server).Dispose();
        Assert.False(client.StaticAgreementsWiped);
        client.Dispose();
        Assert.True(client.StaticAgreementsWiped);
    }

    [Fact]
    public void LowOrderPinnedServerKeyFailsEveryTimeAndIsNotCached()
    {
        using var client = OssuaryKeyPair.Generate();
        var lowOrder = new OssuaryPublicKey(new byte[32]); // the point 0: DH with it carries nothing from this side
        var options = new OssuaryClientOptions { StaticKeyPair = client, PeerVerifier = PeerVerifier.AcceptAny, ServerKey = lowOrder };
        for (int i = 0; i < 2; i++)
        {
            var error = Assert.Throws<OssuaryException>(() => OssuaryConnection.CreateClient(options));
            Assert.Equal(OssuaryErrorCode.InvalidKey, error.ErrorCode);
        }
        Assert.Equal(0, client.StaticAgreementsComputed);
    }
}
