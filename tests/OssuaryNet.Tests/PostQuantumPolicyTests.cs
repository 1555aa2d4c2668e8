using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// The post-quantum policy in the stream mode: which pattern each pair of settings gives, the refusals, and the rules
/// that keep an attacker from stripping the hybrid handshake (fallback only on first contact; trust stores remember).
/// </summary>
public sealed class PostQuantumPolicyTests
{
    public static TheoryData<bool, OssuarySuite> PatternsAndSuites() => new()
    {
        { false, OssuarySuite.ChaChaPolyBlake2b },
        { false, OssuarySuite.AesGcmSha256 },
        { true, OssuarySuite.ChaChaPolyBlake2b },
        { true, OssuarySuite.AesGcmSha256 },
    };

    [Theory]
    [MemberData(nameof(PatternsAndSuites))]
    public void HybridHandshakesCompleteAndCarryData(bool ik, OssuarySuite suite)
    {
        using ConnectionPair pair = ConnectionPair.Established(ik,
            client: c => { c.PostQuantum = OssuaryPostQuantum.Required; c.Suite = suite; },
            server: s => s.PostQuantum = OssuaryPostQuantum.Required);
        OssuaryHandshakePattern expected = ik ? OssuaryHandshakePattern.IKhfs : OssuaryHandshakePattern.XXhfs;
        Assert.Equal(expected, pair.Client.Pattern);
        Assert.Equal(expected, pair.Server.Pattern);
        Assert.Equal($"Noise_{expected}_25519+MLKEM768_{(suite == OssuarySuite.ChaChaPolyBlake2b ? "ChaChaPoly_BLAKE2b" : "AESGCM_SHA256")}", pair.Client.NoiseProtocolName);
        Assert.True(pair.Client.HandshakeHash.SequenceEqual(pair.Server.HandshakeHash));
        pair.ClientSends("over the hybrid channel"u8);
        pair.Pump();
        Assert.Equal("over the hybrid channel"u8.ToArray(), pair.ServerReceived.ToArray());
    }

    [Fact]
    public void TheHybridFirstMessagesCostTheirKemBytesAndNoMore()
    {
        using ConnectionPair classical = ConnectionPair.Established();
        using ConnectionPair hybrid = ConnectionPair.Established(client: c => c.PostQuantum = OssuaryPostQuantum.Preferred, server: s => s.PostQuantum = OssuaryPostQuantum.Preferred);
        Assert.Equal(OssuaryHandshakePattern.XXhfs, hybrid.Client.Pattern);
        // Client: the 1184-byte KEM key (sent in clear in XXhfs message 1). Server: the 1088-byte ciphertext and its tag.
        Assert.Equal(1184, hybrid.ClientToServerTranscript.Count - classical.ClientToServerTranscript.Count);
        Assert.Equal(1088 + 16, hybrid.ServerToClientTranscript.Count - classical.ServerToClientTranscript.Count);
    }

    [Theory]
    [InlineData(OssuaryPostQuantum.Preferred, OssuaryPostQuantum.Preferred, OssuaryHandshakePattern.XXhfs)]
    [InlineData(OssuaryPostQuantum.Preferred, OssuaryPostQuantum.Required, OssuaryHandshakePattern.XXhfs)]
    [InlineData(OssuaryPostQuantum.Off, OssuaryPostQuantum.Preferred, OssuaryHandshakePattern.XX)]
    [InlineData(OssuaryPostQuantum.Off, OssuaryPostQuantum.Off, OssuaryHandshakePattern.XX)]
    public void ThePolicyPairChoosesThePattern(OssuaryPostQuantum client, OssuaryPostQuantum server, OssuaryHandshakePattern pattern)
    {
        using ConnectionPair pair = ConnectionPair.Established(client: c => c.PostQuantum = client, server: s => s.PostQuantum = server);
        Assert.Equal(pattern, pair.Server.Pattern);
    }

    [Theory]
    [InlineData(OssuaryPostQuantum.Required, OssuaryPostQuantum.Off, "turned off", "refused the post-quantum hybrid handshake (XXhfs): it offers only classical handshakes")]
    [InlineData(OssuaryPostQuantum.Preferred, OssuaryPostQuantum.Off, "turned off", "refused the post-quantum hybrid handshake (XXhfs)")]
    [InlineData(OssuaryPostQuantum.Off, OssuaryPostQuantum.Required, "requires the post-quantum", "refused the classical handshake (XX): it requires the post-quantum hybrid one")]
    public void AServerRefusesTheVariantItsPolicyExcludesWithUnsupportedPattern(OssuaryPostQuantum client, OssuaryPostQuantum server, string why, string clientWhy)
    {
        var clientOptions = ConnectionPair.ClientOptions();
        clientOptions.PostQuantum = client;
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.PostQuantum = server;
        using var pair = new ConnectionPair(clientOptions, serverOptions);
        (OssuaryException serverError, OssuaryException? clientError, bool serverFirst) = RunUntilFailure(pair);
        Assert.True(serverFirst);
        Assert.Equal(OssuaryErrorCode.UnsupportedPattern, serverError.ErrorCode);
        Assert.Contains(why, serverError.Message);
        Assert.Equal(OssuaryErrorCode.UnsupportedPattern, clientError!.ErrorCode); // the clear alert
        Assert.Contains(clientWhy, clientError.Message); // which handshake was refused: the alert carries only the code
    }

    [Fact]
    public async Task APreferringClientFallsBackOnFirstContactAndRefusesOnceTheServerIsKnownToBeHybrid()
    {
        string knownHostsPath = Path.Combine(Directory.CreateTempSubdirectory("ossuary-").FullName, "known_hosts");
        var knownHosts = new KnownHosts(knownHostsPath);
        OssuaryClientOptions Preferring() { var o = Loopback.ClientOptions(knownHosts); o.PostQuantum = OssuaryPostQuantum.Preferred; return o; }

        // An old (classical-only) server: first contact falls back, and known hosts records no "pq".
        var oldServer = Loopback.ServerOptions(PeerVerifier.AcceptAny);
        oldServer.PostQuantum = OssuaryPostQuantum.Off;
        await using (OssuaryListener old = Loopback.Listen(oldServer))
        {
            await using OssuaryStream stream = await Loopback.Connect(old, Preferring());
            Assert.Equal(OssuaryHandshakePattern.XX, stream.Pattern);
            Assert.DoesNotContain(" pq", File.ReadAllText(knownHostsPath));
        }

        // The server is upgraded, on a new port: a hybrid first contact records "pq"; the second connection is IKhfs.
        var upgraded = Loopback.ServerOptions(PeerVerifier.AcceptAny);
        upgraded.PostQuantum = OssuaryPostQuantum.Preferred;
        await using OssuaryListener server = Loopback.Listen(upgraded);
        string endpoint = $"127.0.0.1:{server.LocalEndpoint.Port}";
        await using (OssuaryStream stream = await Loopback.Connect(server, Preferring()))
        {
            Assert.Equal(OssuaryHandshakePattern.XXhfs, stream.Pattern);
        }
        Assert.Contains($"{endpoint} {TestKeys.Server.PublicKey} pq", File.ReadAllText(knownHostsPath));
        Assert.True(knownHosts.HasSpokenPostQuantum(endpoint, null));
        await using (OssuaryStream stream = await Loopback.Connect(server, Preferring()))
        {
            Assert.Equal(OssuaryHandshakePattern.IKhfs, stream.Pattern);
        }

        // Someone now answers the hybrid offer with UnsupportedPattern (here: the server's policy turned off, on the
        // same port's name): a preferring client refuses to fall back.
        upgraded.PostQuantum = OssuaryPostQuantum.Off;
        var refused = await Assert.ThrowsAsync<OssuaryException>(() => Loopback.Connect(server, Preferring())).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.PostQuantumDowngrade, refused.ErrorCode);
        Assert.Contains(endpoint, refused.Message);

        // And a client that is itself classical meets its own known-hosts verifier: a classical handshake with a
        // host on record as hybrid is refused too.
        var classicalClient = Loopback.ClientOptions(knownHosts);
        var again = await Assert.ThrowsAsync<OssuaryException>(() => Loopback.Connect(server, classicalClient)).WaitAsync(Loopback.Guard);
        Assert.Equal(OssuaryErrorCode.PostQuantumDowngrade, again.ErrorCode);
    }

    [Fact]
    public void AnAuthorizedKeysLineMarkedPqRefusesAClassicalClient()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("ossuary-").FullName, "authorized_keys");
        File.WriteAllText(path, $"pq {TestKeys.Client.PublicKey} laptop\n{TestKeys.Other.PublicKey} build server\n");
        AuthorizedKeys authorized = AuthorizedKeys.Load(path);
        Assert.Equal(2, authorized.Keys.Count);

        var serverOptions = ConnectionPair.ServerOptions(authorized);
        serverOptions.PostQuantum = OssuaryPostQuantum.Preferred;
        using (var classical = new ConnectionPair(ConnectionPair.ClientOptions(), serverOptions))
        {
            (OssuaryException server, OssuaryException? client, bool serverFirst) = RunUntilFailure(classical);
            Assert.True(serverFirst);
            Assert.Equal(OssuaryErrorCode.PostQuantumDowngrade, server.ErrorCode);
            Assert.Equal(OssuaryErrorCode.PeerRejected, client!.ErrorCode); // sent as PeerRejected
        }
        var hybridClient = ConnectionPair.ClientOptions();
        hybridClient.PostQuantum = OssuaryPostQuantum.Preferred;
        using var hybrid = new ConnectionPair(hybridClient, serverOptions);
        hybrid.Pump();
        Assert.Equal(OssuaryConnectionState.Established, hybrid.Server.State);
    }

    [Fact]
    public void AuthorizedKeysRememberAPeerThatSpokeHybrid()
    {
        var authorized = new AuthorizedKeys([TestKeys.Client.PublicKey]);
        var serverOptions = ConnectionPair.ServerOptions(authorized);
        serverOptions.PostQuantum = OssuaryPostQuantum.Preferred;
        using (var classical = new ConnectionPair(ConnectionPair.ClientOptions(), serverOptions))
        {
            classical.Pump();
            Assert.Equal(OssuaryConnectionState.Established, classical.Server.State); // nothing on record yet
        }
        var hybridClient = ConnectionPair.ClientOptions();
        hybridClient.PostQuantum = OssuaryPostQuantum.Required;
        using (var hybrid = new ConnectionPair(hybridClient, serverOptions))
        {
            hybrid.Pump();
            Assert.Equal(OssuaryConnectionState.Established, hybrid.Server.State);
        }
        Assert.True(authorized.HasSpokenPostQuantum(null, TestKeys.Client.PublicKey));
        using var downgraded = new ConnectionPair(ConnectionPair.ClientOptions(), serverOptions);
        Assert.Equal(OssuaryErrorCode.PostQuantumDowngrade, RunUntilFailure(downgraded).First.ErrorCode);
    }

    [Fact]
    public void EarlyDataRidesInIKhfsOnlyWhenAskedForAndAccepted()
    {
        using ConnectionPair pair = ConnectionPair.Established(ik: true,
            client: c => { c.PostQuantum = OssuaryPostQuantum.Required; c.EarlyData = "0-rtt under X25519 alone"u8.ToArray(); },
            server: s => { s.PostQuantum = OssuaryPostQuantum.Required; s.AcceptEarlyData = true; });
        Assert.Equal(OssuaryHandshakePattern.IKhfs, pair.Server.Pattern);
        Assert.Equal("0-rtt under X25519 alone"u8.ToArray(), pair.Server.EarlyData.ToArray());
    }

    /// <summary>
    /// Runs a handshake between fresh connections until a side fails, then carries that side's clear alert to the
    /// other; returns both errors (the second null if the other side had already finished or failed on its own).
    /// </summary>
    private static (OssuaryException First, OssuaryException? Other, bool ServerFailedFirst) RunUntilFailure(ConnectionPair pair)
    {
        byte[] plaintext = new byte[70000];
        OssuaryConnection[] sides = [pair.Client, pair.Server];
        byte[] message = HandshakeTests.Drain(pair.Client);
        for (int turn = 1; turn < 12; turn++)
        {
            OssuaryConnection receiver = sides[turn % 2], sender = sides[(turn + 1) % 2];
            try
            {
                if (receiver.Receive(message, plaintext, out _, out _) == OssuaryStatus.PeerVerificationRequired)
                {
                    receiver.VerifyPendingPeer();
                }
            }
            catch (OssuaryException first)
            {
                byte[] alert = HandshakeTests.Drain(receiver);
                OssuaryException? other = null;
                try
                {
                    sender.Receive(alert, plaintext, out _, out _);
                }
                catch (OssuaryException e)
                {
                    other = e;
                }
                return (first, other, receiver == pair.Server);
            }
            message = HandshakeTests.Drain(receiver);
        }
        throw new InvalidOperationException("Neither side failed.");
    }

    [Fact]
    public void AMalformedKemKeyFailsTheServerWhichSendsItsAlertAndNothingElse()
    {
        var clientOptions = ConnectionPair.ClientOptions();
        clientOptions.PostQuantum = OssuaryPostQuantum.Required;
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.PostQuantum = OssuaryPostQuantum.Preferred;
        using var client = OssuaryConnection.CreateClient(clientOptions);
        using var server = OssuaryConnection.CreateServer(serverOptions);
        byte[] first = HandshakeTests.Drain(client);
        // Frame length (2), clear header (8), e (32), then the KEM key in clear: coefficients of 0xFFF fail FIPS 203's check
        // when the server encapsulates, which it does while building message 2.
        first.AsSpan(2 + 8 + 32, 1152).Fill(0xFF);
        var error = Assert.Throws<OssuaryException>(() => server.Receive(first, new byte[first.Length], out _, out _));
        Assert.Equal(OssuaryErrorCode.InvalidKey, error.ErrorCode);
        Assert.Equal(new byte[] { 0, 2, 0x15, (byte)OssuaryErrorCode.InvalidKey }, HandshakeTests.Drain(server)); // no half-built message 2
        // Once the alert is out, the failure sticks and nothing more is sent.
        Assert.Equal(OssuaryErrorCode.InvalidKey, Assert.Throws<OssuaryException>(() => HandshakeTests.Drain(server)).ErrorCode);
    }

    [Fact]
    public void AnUnknownPolicyIsACallerMistake()
    {
        var options = ConnectionPair.ClientOptions();
        options.PostQuantum = (OssuaryPostQuantum)7;
        Assert.Throws<ArgumentException>(() => OssuaryConnection.CreateClient(options, "server.test:7000"));
    }
}
