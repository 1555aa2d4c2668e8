using System.Buffers.Binary;
using OssuaryNet.Protocol;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// After a failure a connection emits at most its clear alert: no half-built frame, no frame queued before the
/// failure, no content in clear. Each case here emitted more than that before output became transactional.
/// </summary>
public sealed class FailureOutputTests
{
    private static readonly byte[] Secret = "a secret the peer must never see"u8.ToArray();

    private static byte[] Alert(OssuaryErrorCode code) => [0, 2, WireFormat.AlertKind, (byte)code];

    /// <summary>Drains everything the connection will still emit; a failed connection throws once it is drained.</summary>
    private static byte[] DrainAfterFailure(OssuaryConnection connection)
    {
        var output = new List<byte>();
        byte[] buffer = new byte[70000];
        while (true)
        {
            OssuaryStatus status;
            int written;
            try
            {
                status = connection.Send(default, buffer, out _, out written);
            }
            catch (OssuaryException)
            {
                return [.. output];
            }
            output.AddRange(buffer.AsSpan(0, written));
            if (status == OssuaryStatus.Done && written == 0)
            {
                return [.. output];
            }
        }
    }

    private static byte[] ClientHello(OssuaryHandshakePattern pattern, byte[] message)
    {
        byte[] frame = new byte[2 + ClearHeader.Size + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(ClearHeader.Size + message.Length));
        new ClearHeader(WireFormat.Version, (byte)pattern, (byte)OssuarySuite.ChaChaPolyBlake2b).Write(frame.AsSpan(2));
        message.CopyTo(frame, 2 + ClearHeader.Size);
        return frame;
    }

    [Fact]
    public void ALowOrderEphemeralInXXMessage1GetsOnlyTheAlertNeverAHalfBuiltMessage2()
    {
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        var error = Assert.Throws<OssuaryException>(() => server.Receive(ClientHello(OssuaryHandshakePattern.XX, new byte[32]), default, out _, out _));
        Assert.Equal(OssuaryErrorCode.InvalidKey, error.ErrorCode);
        Assert.Equal(Alert(OssuaryErrorCode.InvalidKey), DrainAfterFailure(server));
        Assert.Equal(OssuaryConnectionState.Failed, server.State);
    }

    [Fact]
    public void ALowOrderEphemeralInIKMessage1GetsOnlyTheAlert()
    {
        using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
        byte[] message = new byte[32 + 48 + 16 + 40];
        var error = Assert.Throws<OssuaryException>(() => server.Receive(ClientHello(OssuaryHandshakePattern.IK, message), default, out _, out _));
        Assert.Equal(OssuaryErrorCode.InvalidKey, error.ErrorCode);
        Assert.Equal(Alert(OssuaryErrorCode.InvalidKey), DrainAfterFailure(server));
    }

    [Fact]
    public void AClientThatReadsALowOrderServerEphemeralSendsTheInvalidKeyAlert()
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions());
        DrainAfterFailure(client); // message 1
        byte[] message2 = new byte[2 + 1 + 32 + 48 + 40];
        BinaryPrimitives.WriteUInt16BigEndian(message2, (ushort)(message2.Length - 2));
        var error = Assert.Throws<OssuaryException>(() => client.Receive(message2, default, out _, out _));
        Assert.Equal(OssuaryErrorCode.InvalidKey, error.ErrorCode);
        Assert.Equal(Alert(OssuaryErrorCode.InvalidKey), DrainAfterFailure(client));
    }

    [Theory]
    [InlineData("ping")]
    [InlineData("close")]
    [InlineData("key update")]
    public void AControlRecordThatCannotBeSealedLeavesNothingToSend(string control)
    {
        using ConnectionPair pair = ConnectionPair.Established();
        pair.Client.TransportForTesting!.Send.Nonce = ulong.MaxValue;
        Action queue = control switch
        {
            "ping" => () => pair.Client.Ping(Secret.AsSpan(0, 32)),
            "close" => pair.Client.Close,
            _ => pair.Client.RequestKeyUpdate,
        };
        Assert.Equal(OssuaryErrorCode.NonceExhausted, Assert.Throws<OssuaryException>(queue).ErrorCode);
        Assert.Empty(DrainAfterFailure(pair.Client));
        Assert.Equal(OssuaryConnectionState.Failed, pair.Client.State);
    }

    [Fact]
    public void APongThatCannotBeSealedLeavesNothingToSend()
    {
        using ConnectionPair pair = ConnectionPair.Established();
        pair.Client.Ping(Secret.AsSpan(0, 32));
        ConnectionPair.SendAll(pair.Client, default, pair.ToServer);
        pair.Server.TransportForTesting!.Send.Nonce = ulong.MaxValue;
        // The receiver only notes the pong it owes; the sender seals it, and fails there.
        Assert.Equal(OssuaryStatus.NeedMoreInput, pair.Server.Receive(pair.ToServer.ToArray(), new byte[100], out _, out _));
        Assert.True(pair.Server.HasPendingOutput);
        byte[] destination = new byte[1000];
        int written = -1;
        var error = Assert.Throws<OssuaryException>(() => pair.Server.Send(default, destination, out _, out written));
        Assert.Equal(OssuaryErrorCode.NonceExhausted, error.ErrorCode);
        Assert.Equal(0, written);
        Assert.All(destination, b => Assert.Equal(0, b));
        Assert.Empty(DrainAfterFailure(pair.Server));
    }

    [Fact]
    public void DataThatCannotBeSealedIsWipedFromTheDestination()
    {
        using ConnectionPair pair = ConnectionPair.Established();
        pair.Client.TransportForTesting!.Send.Nonce = ulong.MaxValue;
        byte[] destination = new byte[1000];
        int written = -1;
        Assert.Throws<OssuaryException>(() => pair.Client.Send(Secret, destination, out _, out written));
        Assert.Equal(0, written);
        Assert.All(destination, b => Assert.Equal(0, b));
    }

    [Fact]
    public void FramesQueuedBeforeAFailureAreNotSentAfterIt()
    {
        using ConnectionPair pair = ConnectionPair.Established();
        pair.Client.Ping("ping"u8);
        ConnectionPair.SendAll(pair.Client, default, pair.ToServer);
        byte[] input = pair.ToServer.ToArray();
        byte[] tampered = [.. input, .. input]; // the ping, then a replay of it
        tampered[^1] ^= 1;
        var error = Assert.Throws<OssuaryException>(() => pair.Server.Receive(tampered, new byte[100], out _, out _));
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
        Assert.Empty(DrainAfterFailure(pair.Server)); // the pong owed for the first ping is not sent by a failed connection
    }

    [Fact]
    public void TheRestOfAFramePartlyDrainedBeforeAFailureStillGoesOutWhole()
    {
        using ConnectionPair pair = ConnectionPair.Established();
        pair.Client.Ping("first"u8);
        pair.Client.Ping("second"u8);
        byte[] part = new byte[5];
        pair.Client.Send(default, part, out _, out int written);
        Assert.Equal(5, written);
        int firstFrame = 2 + BinaryPrimitives.ReadUInt16BigEndian(part);
        Assert.Throws<OssuaryException>(pair.Client.CompleteInput);
        Assert.Equal(firstFrame - 5, DrainAfterFailure(pair.Client).Length);
    }
}
