using OssuaryNet.Protocol;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Adversarial;

/// <summary>
/// What docs/PROTOCOL.md requires of a receiver, checked against a crafted peer that breaks each rule: extensions
/// only where section 4.3 places them, an empty XX message 1, alerts in record position only where 4.4 allows, and
/// the alert each failure sends (section 6).
/// </summary>
public sealed class ProtocolConformanceTests
{
    private static readonly byte[] Unknown = CraftedPeer.Extensions((0x40, [1, 2, 3]));
    private static readonly byte[] EarlyData = CraftedPeer.Extensions((HandshakeExtensions.EarlyDataType, "early"u8.ToArray()));

    private static byte[] Alert(OssuaryErrorCode code) => [0, 2, WireFormat.AlertKind, (byte)code];

    private static byte[] Drain(OssuaryConnection connection) => CraftedPeer.DrainOf(connection);

    private static OssuaryException Fails(OssuaryConnection connection, byte[] input) => CraftedPeer.FailureOf(connection, input);

    [Theory]
    [InlineData("unknown even extension")]
    [InlineData("selected_application_protocol")]
    [InlineData("max_record_payload")]
    public void XXMessage1MustHaveAnEmptyPayload(string what)
    {
        byte[] payload = what switch
        {
            "unknown even extension" => Unknown,
            "selected_application_protocol" => CraftedPeer.Extensions((HandshakeExtensions.SelectedApplicationProtocolType, "h2"u8.ToArray())),
            _ => CraftedPeer.Extensions((HandshakeExtensions.MaxRecordPayloadType, [0x40, 0x40])),
        };
        using var client = CraftedPeer.Client(OssuaryHandshakePattern.XX);
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        Assert.Equal(OssuaryErrorCode.MalformedHandshake, Fails(server, client.FirstFrame(payload)).ErrorCode);
        Assert.Equal(Alert(OssuaryErrorCode.MalformedHandshake), Drain(server));
    }

    [Fact]
    public void EarlyDataInXXMessage3IsRefused()
    {
        using var client = CraftedPeer.Client(OssuaryHandshakePattern.XX);
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        server.Receive(client.FirstFrame(default), default, out _, out _);
        server.VerifyPendingPeer();
        client.ReadMessage(CraftedPeer.Bodies(Drain(server))[0].AsSpan(1));
        Assert.Equal(OssuaryErrorCode.MalformedHandshake, Fails(server, client.HandshakeFrame(EarlyData)).ErrorCode);
        Assert.Equal(Alert(OssuaryErrorCode.MalformedHandshake), Drain(server));
    }

    [Theory]
    [InlineData(OssuaryHandshakePattern.XX, "early_data")]
    [InlineData(OssuaryHandshakePattern.IK, "early_data")]
    [InlineData(OssuaryHandshakePattern.IK, "application_protocols")]
    public void AServerMessage2WithAnExtensionOutOfPlaceIsRefused(OssuaryHandshakePattern pattern, string what)
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions(pinServer: pattern == OssuaryHandshakePattern.IK));
        using var server = CraftedPeer.Server(CraftedPeer.Bodies(Drain(client))[0]);
        byte[] payload = what == "early_data" ? EarlyData
            : CraftedPeer.Extensions((HandshakeExtensions.ApplicationProtocolsType, [2, (byte)'h', (byte)'2']));
        Assert.Equal(OssuaryErrorCode.MalformedHandshake, Fails(client, server.HandshakeFrame(payload)).ErrorCode);
        Assert.Equal(Alert(OssuaryErrorCode.MalformedHandshake), Drain(client));
    }

    [Fact]
    public void UnknownEvenExtensionsAreIgnoredInEncryptedPayloads()
    {
        using var client = CraftedPeer.Client(OssuaryHandshakePattern.IK);
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        server.Receive(client.FirstFrame(Unknown), default, out _, out _);
        server.VerifyPendingPeer();
        Assert.Equal(OssuaryConnectionState.Established, server.State);
    }

    [Fact]
    public void AForgedAlertToAnXXServerAfterMessage3IsAMalformedRecordNotARejection()
    {
        using ConnectionPair pair = ConnectionPair.Established();
        var error = Fails(pair.Server, CraftedPeer.RawFrame([WireFormat.AlertKind, (byte)OssuaryErrorCode.PeerRejected]));
        Assert.Equal(OssuaryErrorCode.MalformedFrame, error.ErrorCode);
        Assert.Empty(Drain(pair.Server)); // the transport phase sends no alerts
    }

    [Fact]
    public void AForgedAlertToAnIKClientAfterMessage2IsAMalformedRecord()
    {
        using ConnectionPair pair = ConnectionPair.Established(ik: true);
        var error = Fails(pair.Client, CraftedPeer.RawFrame([WireFormat.AlertKind, (byte)OssuaryErrorCode.PeerRejected]));
        Assert.Equal(OssuaryErrorCode.MalformedFrame, error.ErrorCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheSideThatFinishesFirstStillHearsTheRejectionBeforeItsFirstRecord(bool ik)
    {
        var clientOptions = ConnectionPair.ClientOptions(pinServer: ik);
        var serverOptions = ConnectionPair.ServerOptions();
        if (ik)
        {
            clientOptions.PeerVerifier = PeerVerifier.Pinned(TestKeys.Other.PublicKey);
        }
        else
        {
            serverOptions.PeerVerifier = PeerVerifier.Pinned(TestKeys.Other.PublicKey);
        }
        using var pair = new ConnectionPair(clientOptions, serverOptions);
        Assert.Equal(OssuaryErrorCode.PeerRejected, Assert.Throws<OssuaryException>(pair.Pump).ErrorCode);
        OssuaryConnection rejecter = ik ? pair.Client : pair.Server, finishedFirst = ik ? pair.Server : pair.Client;
        Assert.Equal(OssuaryConnectionState.Established, finishedFirst.State);
        byte[] alert = Drain(rejecter);
        Assert.Equal(Alert(OssuaryErrorCode.PeerRejected), alert);
        Assert.Equal(OssuaryErrorCode.PeerRejected, Fails(finishedFirst, alert).ErrorCode);
    }

    [Fact]
    public void AnAlertIsNeverAnsweredWithAnAlert()
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions());
        Drain(client);
        Assert.Equal(OssuaryErrorCode.UnsupportedSuite, Fails(client, CraftedPeer.RawFrame([WireFormat.AlertKind, (byte)OssuaryErrorCode.UnsupportedSuite])).ErrorCode);
        Assert.Empty(Drain(client));
    }

    [Fact]
    public void ATruncatedHandshakeSendsNoAlert()
    {
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        Assert.Equal(OssuaryErrorCode.Truncated, Assert.Throws<OssuaryException>(server.CompleteInput).ErrorCode);
        Assert.Empty(Drain(server));
    }
}
