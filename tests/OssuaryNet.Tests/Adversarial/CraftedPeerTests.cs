using OssuaryNet.Protocol;
using Xunit;

namespace OssuaryNet.Tests.Adversarial;

/// <summary>
/// The crafted-peer kit against a real connection: low-order keys in every position of both patterns, every value
/// of every clear-header byte, every record type byte and the size limits of records. Each failure must carry its
/// code and be followed by nothing but its alert (none in the transport phase).
/// </summary>
public sealed class CraftedPeerTests
{
    /// <summary>X25519 points whose products are all zero (libsodium refuses them): 0, 1, the order-8 points, p-1, p, p+1.</summary>
    public static readonly TheoryData<string> LowOrderPoints = new()
    {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };

    private static readonly byte[] InvalidKeyAlert = [0, 2, WireFormat.AlertKind, (byte)OssuaryErrorCode.InvalidKey];

    private static byte[] Drain(OssuaryConnection connection) => CraftedPeer.DrainOf(connection);

    private static OssuaryException Fails(OssuaryConnection connection, byte[] input) => CraftedPeer.FailureOf(connection, input);

    private static byte[] WithEphemeral(byte[] frame, int keyOffset, byte[] key)
    {
        byte[] copy = (byte[])frame.Clone();
        key.CopyTo(copy, 2 + keyOffset);
        return copy;
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void LowOrderEphemeralsAreRefusedInEveryPosition(string point)
    {
        byte[] key = Convert.FromHexString(point);
        foreach (bool ik in new[] { false, true })
        {
            var pattern = ik ? OssuaryHandshakePattern.IK : OssuaryHandshakePattern.XX;
            // Message 1's e, read by the server.
            using (var crafted = CraftedPeer.Client(pattern))
            using (var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions()))
            {
                Assert.Equal(OssuaryErrorCode.InvalidKey, Fails(server, WithEphemeral(crafted.FirstFrame(default), ClearHeader.Size, key)).ErrorCode);
                Assert.Equal(InvalidKeyAlert, Drain(server));
            }
            // Message 2's e, read by the client.
            using (var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions(pinServer: ik)))
            using (var crafted = CraftedPeer.Server(CraftedPeer.Bodies(Drain(client))[0]))
            {
                Assert.Equal(OssuaryErrorCode.InvalidKey, Fails(client, WithEphemeral(crafted.HandshakeFrame(default), 1, key)).ErrorCode);
                Assert.Equal(InvalidKeyAlert, Drain(client));
            }
        }
    }

    [Theory]
    [MemberData(nameof(LowOrderPoints))]
    public void LowOrderStaticKeysAreRefusedInEveryPosition(string point)
    {
        byte[] key = Convert.FromHexString(point);
        // IK message 1's s and XX message 3's s, read by the server.
        using (var crafted = CraftedPeer.Client(OssuaryHandshakePattern.IK, claimedStatic: key))
        using (var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions()))
        {
            Assert.Equal(OssuaryErrorCode.InvalidKey, Fails(server, crafted.FirstFrame(default)).ErrorCode);
            Assert.Equal(InvalidKeyAlert, Drain(server));
        }
        using (var crafted = CraftedPeer.Client(OssuaryHandshakePattern.XX, claimedStatic: key))
        using (var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions()))
        {
            server.Receive(crafted.FirstFrame(default), default, out _, out _);
            server.VerifyPendingPeer();
            crafted.ReadMessage(CraftedPeer.Bodies(Drain(server))[0].AsSpan(1));
            Assert.Equal(OssuaryErrorCode.InvalidKey, Fails(server, crafted.HandshakeFrame(default)).ErrorCode);
            Assert.Equal(InvalidKeyAlert, Drain(server));
        }
        // XX message 2's s, read by the client.
        using (var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions()))
        using (var crafted = CraftedPeer.Server(CraftedPeer.Bodies(Drain(client))[0], claimedStatic: key))
        {
            Assert.Equal(OssuaryErrorCode.InvalidKey, Fails(client, crafted.HandshakeFrame(default)).ErrorCode);
            Assert.Equal(InvalidKeyAlert, Drain(client));
        }
        // A pinned server key that is low order fails when the client is created, before anything is sent.
        var options = ConnectionPair.ClientOptions();
        options.ServerKey = new OssuaryNet.Identity.OssuaryPublicKey(key);
        Assert.Equal(OssuaryErrorCode.InvalidKey, Assert.Throws<OssuaryException>(() => OssuaryConnection.CreateClient(options)).ErrorCode);
    }

    [Fact]
    public void EveryValueOfEveryClearHeaderByteGetsItsAlert()
    {
        using var reference = CraftedPeer.Client(OssuaryHandshakePattern.XX);
        byte[] frame = reference.FirstFrame(default);
        for (int position = 0; position < ClearHeader.Size; position++)
        {
            for (int value = 0; value < 256; value++)
            {
                byte[] changed = (byte[])frame.Clone();
                changed[2 + position] = (byte)value;
                OssuaryErrorCode? expected = changed.AsSpan(2, 4).SequenceEqual("OSSY"u8) && changed[2 + 7] == 0
                    ? changed[2 + 4] != 1 ? OssuaryErrorCode.UnsupportedVersion
                    : changed[2 + 5] is not (1 or 2) ? OssuaryErrorCode.UnsupportedPattern
                    : changed[2 + 6] is not (1 or 2) ? OssuaryErrorCode.UnsupportedSuite
                    : null
                    : OssuaryErrorCode.MalformedHandshake;
                using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
                if (expected is null)
                {
                    // A valid header: for another pattern or suite than the message was made for, the server
                    // answers (XX) or fails authenticating the rest (IK), but never with a header alert.
                    try
                    {
                        server.Receive(changed, default, out _, out _);
                        server.VerifyPendingPeer();
                    }
                    catch (OssuaryException e)
                    {
                        Assert.True(e.ErrorCode is OssuaryErrorCode.AuthenticationFailed or OssuaryErrorCode.MalformedHandshake, $"byte {position} = {value}: {e.ErrorCode}");
                    }
                    continue;
                }
                Assert.Equal(expected, Fails(server, changed).ErrorCode);
                Assert.Equal(new byte[] { 0, 2, WireFormat.AlertKind, (byte)expected }, Drain(server));
            }
        }
    }

    /// <summary>A server in its transport phase with a crafted client that can seal any record.</summary>
    private static (OssuaryConnection Server, CraftedPeer Client) Established(Action<OssuaryServerOptions>? configure = null)
    {
        var crafted = CraftedPeer.Client(OssuaryHandshakePattern.XX);
        var options = ConnectionPair.ServerOptions();
        configure?.Invoke(options);
        var server = OssuaryConnection.CreateServer(options);
        server.Receive(crafted.FirstFrame(default), default, out _, out _);
        server.VerifyPendingPeer();
        crafted.ReadMessage(CraftedPeer.Bodies(Drain(server))[0].AsSpan(1));
        server.Receive(crafted.HandshakeFrame(CraftedPeer.Extensions((HandshakeExtensions.MaxRecordPayloadType, [0x40, 0x40]))), default, out _, out _);
        server.VerifyPendingPeer();
        Assert.Equal(OssuaryConnectionState.Established, server.State);
        return (server, crafted);
    }

    [Fact]
    public void EveryRecordTypeAndContentSizeHasItsDefinedOutcome()
    {
        for (int type = 0; type < 256; type++)
        {
            foreach (int size in new[] { 0, 1, 64, 65, 300 })
            {
                var (server, crafted) = Established();
                using (server)
                using (crafted)
                {
                    byte[] content = Enumerable.Repeat((byte)0x41, size).ToArray();
                    byte[] record = crafted.Record((byte)type, content);
                    OssuaryErrorCode? expected = (type, size) switch
                    {
                        (1, _) => null,
                        (0, 0) => OssuaryErrorCode.MalformedFrame,          // an inner plaintext of zeros has no type
                        (0, _) => OssuaryErrorCode.UnexpectedMessage,       // the last non-zero byte (0x41) is the type
                        (2 or 3, 0) => null,
                        (4 or 5, <= 64) => null,
                        _ => OssuaryErrorCode.UnexpectedMessage,
                    };
                    byte[] plaintext = new byte[1000];
                    int written = 0;
                    OssuaryErrorCode? actual = null;
                    try
                    {
                        server.Receive(record, plaintext, out _, out written);
                        server.VerifyPendingPeer();
                    }
                    catch (OssuaryException e)
                    {
                        actual = e.ErrorCode;
                    }
                    Assert.True(expected == actual, $"type {type}, {size} bytes: expected {expected?.ToString() ?? "success"}, got {actual?.ToString() ?? "success"}");
                    Assert.Equal(type == 1 ? size : 0, written);
                    byte[] after = Drain(server);
                    if (actual is not null)
                    {
                        Assert.Empty(after); // the transport phase sends no alert
                    }
                    else if (type == 4)
                    {
                        byte[]? pong = crafted.Open(CraftedPeer.Bodies(after).Single());
                        Assert.Equal([.. content, 5], pong);
                    }
                }
            }
        }
    }

    [Fact]
    public void RecordsAtAndOverTheAnnouncedLimit()
    {
        var (server, crafted) = Established(o => o.MaxRecordPayload = 100);
        using (server)
        using (crafted)
        {
            byte[] plaintext = new byte[200];
            server.Receive(crafted.Record(1, new byte[100]), plaintext, out _, out int written);
            server.VerifyPendingPeer();
            Assert.Equal(100, written);
            server.Receive(crafted.Record(1, new byte[50], padding: 50), plaintext, out _, out written);
            server.VerifyPendingPeer();
            Assert.Equal(50, written);
            Assert.Equal(OssuaryErrorCode.RecordTooLarge, Fails(server, crafted.Record(1, new byte[101])).ErrorCode);
        }
    }
}
