using OssuaryNet.Identity;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

public sealed class HandshakeTests
{
    public static TheoryData<bool, OssuarySuite> Modes() => new()
    {
        { false, OssuarySuite.ChaChaPolyBlake2b }, { true, OssuarySuite.ChaChaPolyBlake2b },
        { false, OssuarySuite.AesGcmSha256 }, { true, OssuarySuite.AesGcmSha256 },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public void BothSidesAcceptAndAgree(bool ik, OssuarySuite suite)
    {
        using var pair = ConnectionPair.Established(ik, c => c.Suite = suite);
        Assert.Equal(ik ? OssuaryHandshakePattern.IK : OssuaryHandshakePattern.XX, pair.Server.Pattern);
        Assert.Equal(suite, pair.Server.Suite);
        Assert.Equal(TestKeys.Server.PublicKey, pair.Client.RemotePublicKey);
        Assert.Equal(TestKeys.Client.PublicKey, pair.Server.RemotePublicKey);
        Assert.Equal(32 * (suite == OssuarySuite.ChaChaPolyBlake2b ? 2 : 1), pair.Client.HandshakeHash.Length);
        Assert.True(pair.Client.HandshakeHash.SequenceEqual(pair.Server.HandshakeHash));
        Assert.Equal(pair.Client.NoiseProtocolName, pair.Server.NoiseProtocolName);

        pair.ClientSends("hello server"u8);
        pair.ServerSends("hello client"u8);
        pair.Pump();
        Assert.Equal("hello server"u8.ToArray(), pair.ServerReceived);
        Assert.Equal("hello client"u8.ToArray(), pair.ClientReceived);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ClientRejectingTheServerFailsBothSides(bool ik, OssuarySuite suite)
    {
        var clientOptions = ConnectionPair.ClientOptions(PeerVerifier.Pinned(TestKeys.Other.PublicKey), pinServer: ik);
        clientOptions.Suite = suite;
        using var pair = new ConnectionPair(clientOptions, ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.PeerRejected, error.ErrorCode);
        Assert.Equal(OssuaryConnectionState.Failed, pair.Client.State);
        Assert.Contains(TestKeys.Server.PublicKey.Fingerprint, error.Message);
        // In IK the server has already finished when the client rejects it: the alert reaches it where the first record would.
        DeliverAlert(pair.Client, pair.Server, OssuaryErrorCode.PeerRejected);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void ServerRejectingTheClientFailsBothSides(bool ik, OssuarySuite suite)
    {
        var clientOptions = ConnectionPair.ClientOptions(pinServer: ik);
        clientOptions.Suite = suite;
        using var pair = new ConnectionPair(clientOptions, ConnectionPair.ServerOptions(PeerVerifier.Pinned(TestKeys.Other.PublicKey)));
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.PeerRejected, error.ErrorCode);
        Assert.Equal(OssuaryConnectionState.Failed, pair.Server.State);
        DeliverAlert(pair.Server, pair.Client, OssuaryErrorCode.PeerRejected);
        if (ik)
        {
            // IK: the server refused the first message, so the client never authenticated anything.
            Assert.Null(pair.Client.RemotePublicKey);
        }
    }

    [Fact]
    public void CallbackVerifierSeesKeyEndpointAndRole()
    {
        var seen = new List<PeerIdentity>();
        PeerVerifier recording = PeerVerifier.FromCallback(peer =>
        {
            seen.Add(peer);
            return PeerVerdict.Accept();
        });
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(recording), ConnectionPair.ServerOptions(recording), "db.internal:5432", "10.0.0.7:4000");
        pair.Pump();
        Assert.Equal(2, seen.Count);
        Assert.Contains(new PeerIdentity(TestKeys.Server.PublicKey, "db.internal:5432", PeerIsServer: true) { Pattern = OssuaryHandshakePattern.XX }, seen);
        Assert.Contains(new PeerIdentity(TestKeys.Client.PublicKey, "10.0.0.7:4000", PeerIsServer: false) { Pattern = OssuaryHandshakePattern.XX }, seen);
    }

    [Fact]
    public void AVerifierThatThrowsRejectsThePeer()
    {
        PeerVerifier broken = PeerVerifier.FromCallback(_ => throw new InvalidOperationException("database down"));
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(broken), ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.PeerRejected, error.ErrorCode);
    }

    [Fact]
    public void PinningAKeyTheServerDoesNotHoldFailsWithAClearError()
    {
        var clientOptions = ConnectionPair.ClientOptions(PeerVerifier.AcceptAny);
        clientOptions.ServerKey = TestKeys.Other.PublicKey;
        using var pair = new ConnectionPair(clientOptions, ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
        DeliverAlert(pair.Server, pair.Client, OssuaryErrorCode.AuthenticationFailed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DifferentApplicationContextsFailTheHandshake(bool ik)
    {
        var clientOptions = ConnectionPair.ClientOptions(pinServer: ik);
        clientOptions.ApplicationContext = "app-a";
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.ApplicationContext = "app-b";
        using var pair = new ConnectionPair(clientOptions, serverOptions);
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
    }

    [Fact]
    public void SuiteTheServerDoesNotAllowIsRefusedOnBothSides()
    {
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.AllowedSuites = [OssuarySuite.AesGcmSha256];
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(), serverOptions);
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, error.ErrorCode);
        DeliverAlert(pair.Server, pair.Client, OssuaryErrorCode.UnsupportedSuite);
    }

    [Fact]
    public void PatternTheServerDoesNotAllowIsRefusedOnBothSides()
    {
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.AllowedPatterns = [OssuaryHandshakePattern.XX];
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(pinServer: true), serverOptions);
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.UnsupportedPattern, error.ErrorCode);
        DeliverAlert(pair.Server, pair.Client, OssuaryErrorCode.UnsupportedPattern);
    }

    [Fact]
    public void UnknownVersionIsRefusedWithAnAlert()
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions());
        byte[] hello = Drain(client);
        hello[2 + 4] = 2; // version byte of the clear header
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(() => server.Receive(hello, new byte[100], out _, out _));
        Assert.Equal(OssuaryErrorCode.UnsupportedVersion, error.ErrorCode);
        byte[] alert = Drain(server);
        Assert.Equal(new byte[] { 0, 2, 0x15, (byte)OssuaryErrorCode.UnsupportedVersion }, alert);
        var clientError = Assert.Throws<OssuaryException>(() => client.Receive(alert, new byte[100], out _, out _));
        Assert.Equal(OssuaryErrorCode.UnsupportedVersion, clientError.ErrorCode);
    }

    [Theory]
    [InlineData(5, 1)]  // pattern byte: XX -> IK
    [InlineData(6, 2)]  // suite byte: ChaChaPoly_BLAKE2b -> AESGCM_SHA256 (a "downgrade" the server allows)
    public void ATamperedClearHeaderFailsTheHandshake(int headerOffset, byte newValue)
    {
        using var pair = new ConnectionPair(ConnectionPair.ClientOptions(pinServer: headerOffset == 5), ConnectionPair.ServerOptions());
        byte[] hello = Drain(pair.Client);
        hello[2 + headerOffset] = newValue == 1 ? (byte)OssuaryHandshakePattern.XX : newValue;
        Assert.Throws<OssuaryException>(() =>
        {
            pair.Server.Receive(hello, new byte[100], out _, out _);
            pair.Server.VerifyPendingPeer();
            byte[] reply = Drain(pair.Server);
            pair.Client.Receive(reply, new byte[100], out _, out _);
            pair.Client.VerifyPendingPeer();
        });
    }

    [Fact]
    public void NotOurProtocolIsMalformedHandshake()
    {
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(() => server.Receive([0, 5, .. "hello"u8], new byte[100], out _, out _));
        Assert.Equal(OssuaryErrorCode.MalformedHandshake, error.ErrorCode);
    }

    // What other protocols send first, which an OssuaryNet peer would otherwise read as a frame length (18,245 bytes
    // for "GE") and wait for until its deadline.
    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "sent an HTTP request: it is a web client")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "sent an HTTP request")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n", "sent an SSH greeting: it is an SSH client")]
    [InlineData("\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003", "sent a TLS ClientHello")]
    public void AServerTellsAClientSpeakingAnotherProtocolAtItsFirstBytes(string firstBytes, string expected)
    {
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions(), "192.0.2.7:41000");
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(firstBytes);
        // One byte at a time, as a slow client would send them: the fourth byte at the latest tells (never the deadline).
        OssuaryException error = Assert.Throws<OssuaryException>(() =>
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                Assert.True(i < 4, "no failure after four bytes");
                server.Receive(bytes.AsSpan(i, 1), new byte[100], out _, out _);
            }
        });
        Assert.Equal(OssuaryErrorCode.MalformedHandshake, error.ErrorCode);
        Assert.StartsWith("192.0.2.7:41000 ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("HTTP/1.0 400 Bad request\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n\r\n", "127.0.0.1:8000 answered with HTTP: it is a web server, not an OssuaryNet server.")]
    [InlineData("<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>", "127.0.0.1:8000 answered with HTTP: it is a web server")] // Python's http.server to a request it takes for HTTP/0.9
    [InlineData("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "127.0.0.1:8000 answered with SSH: it is an SSH server, not an OssuaryNet server.")]
    [InlineData("\u0015\u0003\u0003\u0000\u0002\u0002\u0032", "127.0.0.1:8000 answered with TLS: it is a TLS server")]
    [InlineData("\u0000\u0004\u0007abc", "127.0.0.1:8000 answered with bytes that cannot begin an OssuaryNet handshake")]
    public void AClientTellsAServerSpeakingAnotherProtocolAtItsFirstBytes(string answer, string expected)
    {
        foreach (int chunk in new[] { 1, 64 })
        {
            using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions(), "127.0.0.1:8000");
            Drain(client);
            byte[] bytes = System.Text.Encoding.Latin1.GetBytes(answer);
            OssuaryException error = Assert.Throws<OssuaryException>(() =>
            {
                for (int i = 0; i < bytes.Length; i += chunk)
                {
                    client.Receive(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)), new byte[100], out _, out _);
                }
            });
            Assert.Equal(OssuaryErrorCode.MalformedHandshake, error.ErrorCode);
            Assert.Contains(expected, error.Message);
        }
    }

    [Fact]
    public void ApplicationProtocolIsNegotiatedInBothModes()
    {
        foreach (bool ik in new[] { false, true })
        {
            using var pair = ConnectionPair.Established(ik,
                c => c.ApplicationProtocols = ["chat/2", "chat/1"],
                s => s.ApplicationProtocols = ["chat/1", "chat/2"]);
            // The selector's preference wins: the server in IK, the client in XX (the side that answers the offer).
            string expected = ik ? "chat/1" : "chat/2";
            Assert.Equal(expected, pair.Client.ApplicationProtocol);
            Assert.Equal(expected, pair.Server.ApplicationProtocol);
        }
    }

    [Fact]
    public void NoCommonApplicationProtocolFails()
    {
        var clientOptions = ConnectionPair.ClientOptions();
        clientOptions.ApplicationProtocols = ["a"];
        var serverOptions = ConnectionPair.ServerOptions();
        serverOptions.ApplicationProtocols = ["b"];
        using var pair = new ConnectionPair(clientOptions, serverOptions);
        var error = Assert.Throws<OssuaryException>(pair.Pump);
        Assert.Equal(OssuaryErrorCode.NoApplicationProtocol, error.ErrorCode);
    }

    [Fact]
    public void EarlyDataIsDeliveredWhenAcceptedAndRefusedOtherwise()
    {
        using (var pair = ConnectionPair.Established(ik: true, c => c.EarlyData = "GET /status"u8.ToArray(), s => s.AcceptEarlyData = true))
        {
            Assert.Equal("GET /status"u8.ToArray(), pair.Server.EarlyData.ToArray());
        }
        var clientOptions = ConnectionPair.ClientOptions(pinServer: true);
        clientOptions.EarlyData = "x"u8.ToArray();
        using var refused = new ConnectionPair(clientOptions, ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(refused.Pump);
        Assert.Equal(OssuaryErrorCode.EarlyDataRejected, error.ErrorCode);
        DeliverAlert(refused.Server, refused.Client, OssuaryErrorCode.EarlyDataRejected);
    }

    [Fact]
    public void EarlyDataWithoutAPinnedKeyIsACallersMistake()
    {
        var options = ConnectionPair.ClientOptions();
        options.EarlyData = "x"u8.ToArray();
        Assert.Throws<ArgumentException>(() => OssuaryConnection.CreateClient(options));
    }

    [Fact]
    public void MissingKeyOrVerifierIsRefusedUpFront()
    {
        Assert.Throws<ArgumentException>(() => OssuaryConnection.CreateClient(new OssuaryClientOptions { PeerVerifier = PeerVerifier.AcceptAny }));
        Assert.Throws<ArgumentException>(() => OssuaryConnection.CreateServer(new OssuaryServerOptions { StaticKeyPair = TestKeys.Server }));
        var longContext = ConnectionPair.ClientOptions();
        longContext.ApplicationContext = new string('x', 1025);
        Assert.Throws<ArgumentException>(() => OssuaryConnection.CreateClient(longContext));
        var noTime = ConnectionPair.ServerOptions();
        noTime.HandshakeTimeout = TimeSpan.Zero;
        Assert.Throws<ArgumentException>(() => OssuaryConnection.CreateServer(noTime));
    }

    [Fact]
    public void XXFirstMessageCarriesNothingButTheHeaderAndAnEphemeralKey()
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions());
        byte[] hello = Drain(client);
        Assert.Equal(2 + 8 + 32, hello.Length);
        Assert.Equal("OSSY"u8.ToArray(), hello[2..6]);
        Assert.False(hello.AsSpan().IndexOf(TestKeys.Client.PublicKey.Bytes[..8]) >= 0, "the static key must not travel in clear");
    }

    internal static byte[] Drain(OssuaryConnection connection)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        connection.Send(default, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Carries the failed side's pending alert to the other side and checks the error it produces there.</summary>
    private static void DeliverAlert(OssuaryConnection failed, OssuaryConnection other, OssuaryErrorCode expected)
    {
        byte[] alert = Drain(failed);
        Assert.Equal(0x15, alert[2]);
        var error = Assert.Throws<OssuaryException>(() => other.Receive(alert, new byte[100], out _, out _));
        Assert.Equal(expected, error.ErrorCode);
        Assert.Equal(OssuaryConnectionState.Failed, other.State);
    }
}
