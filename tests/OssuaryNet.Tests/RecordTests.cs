using System.Buffers;
using Xunit;

namespace OssuaryNet.Tests;

public sealed class RecordTests
{
    private static byte[] Bytes(int length, int seed = 7)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Seals one message and returns its frames as sent.</summary>
    private static byte[] Seal(OssuaryConnection connection, ReadOnlySpan<byte> data)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(OssuaryStatus.Done, connection.Send(data, writer));
        return writer.WrittenSpan.ToArray();
    }

    private static (OssuaryStatus Status, byte[] Plaintext) Open(OssuaryConnection connection, ReadOnlySpan<byte> frames)
    {
        byte[] destination = new byte[70000];
        OssuaryStatus status = connection.Receive(frames, destination, out int consumed, out int written);
        Assert.Equal(frames.Length, consumed);
        return (status, destination[..written]);
    }

    [Fact]
    public void LargeMessagesAreSplitAtThePeersRecordLimit()
    {
        using var pair = ConnectionPair.Established(server: s => s.MaxRecordPayload = 1000);
        Assert.Equal(1000, pair.Client.MaxSendPayload);
        byte[] data = Bytes(5500);
        byte[] wire = Seal(pair.Client, data);
        Assert.Equal(5500 + 6 * 19, wire.Length);
        Assert.Equal(data, Open(pair.Server, wire).Plaintext);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(65536)]
    public void ReceivingIntoABufferWriterTakesEveryRecordWithoutSizingOrLooping(int chunk)
    {
        using var pair = ConnectionPair.Established();
        byte[][] messages = [Bytes(1), Bytes(OssuaryConnection.MaxRecordPayload), Bytes(5000), Bytes(100)];
        byte[] wire = [.. messages.SelectMany(m => Seal(pair.Client, m))];
        using var writer = new CommunityToolkit.HighPerformance.Buffers.ArrayPoolBufferWriter<byte>(16); // smaller than any record
        for (int offset = 0; offset < wire.Length;)
        {
            ReadOnlySpan<byte> piece = wire.AsSpan(offset, Math.Min(chunk, wire.Length - offset));
            Assert.Equal(OssuaryStatus.NeedMoreInput, pair.Server.Receive(piece, writer, out int consumed));
            Assert.Equal(piece.Length, consumed);
            offset += consumed;
        }
        Assert.Equal(messages.SelectMany(m => m).ToArray(), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void ReceivingIntoABufferWriterStopsAtTheCloseAndReportsIt()
    {
        using var pair = ConnectionPair.Established();
        byte[] data = Bytes(3000);
        var sent = new ArrayBufferWriter<byte>();
        pair.Client.Send(data, sent);
        pair.Client.Close();
        pair.Client.Send(default, sent);
        var received = new ArrayBufferWriter<byte>();
        Assert.Equal(OssuaryStatus.Closed, pair.Server.Receive(sent.WrittenSpan, received, out int consumed));
        Assert.Equal(sent.WrittenCount, consumed);
        Assert.Equal(data, received.WrittenSpan.ToArray());
        Assert.Throws<ArgumentNullException>(() => pair.Server.Receive(default, (IBufferWriter<byte>)null!, out _));
    }

    [Fact]
    public void AFrameLongerThanTheLimitIsRefusedBeforeItIsBuffered()
    {
        using var pair = ConnectionPair.Established(server: s => s.MaxRecordPayload = 1000);
        var error = Assert.Throws<OssuaryException>(() => pair.Server.Receive([0x04, 0x00], new byte[10], out _, out _));
        Assert.Equal(OssuaryErrorCode.RecordTooLarge, error.ErrorCode);
    }

    [Fact]
    public void ZeroLengthFramesAreMalformed()
    {
        using var pair = ConnectionPair.Established();
        Assert.Equal(OssuaryErrorCode.MalformedFrame, Assert.Throws<OssuaryException>(() => pair.Server.Receive([0, 0], new byte[10], out _, out _)).ErrorCode);
    }

    [Fact]
    public void ReplayedRecordIsRejected() => AssertSecondFrameRejected((a, b, c) => [a, a]);

    [Fact]
    public void ReorderedRecordIsRejected() => AssertSecondFrameRejected((a, b, c) => [a, c]);

    [Fact]
    public void DroppedRecordIsDetectedAtTheNextOne() => AssertSecondFrameRejected((a, b, c) => [a, c, b]);

    [Fact]
    public void RecordFromAnotherSessionIsRejected()
    {
        using var other = ConnectionPair.Established(client: c => c.EphemeralKeySource = TestKeys.Deterministic(99));
        byte[] foreign = Seal(other.Client, "foreign"u8);
        AssertSecondFrameRejected((a, b, c) => [a, foreign]);
    }

    [Fact]
    public void RecordFromTheOtherDirectionIsRejected()
    {
        using var pair = ConnectionPair.Established();
        byte[] fromServer = Seal(pair.Server, "reflected"u8);
        var error = Assert.Throws<OssuaryException>(() => Open(pair.Server, fromServer));
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
    }

    /// <summary>Sends three records, delivers them in the order <paramref name="arrange"/> gives: the first arrives, the second must fail and release nothing.</summary>
    private static void AssertSecondFrameRejected(Func<byte[], byte[], byte[], byte[][]> arrange)
    {
        using var pair = ConnectionPair.Established();
        byte[] a = Seal(pair.Client, "first"u8), b = Seal(pair.Client, "second"u8), c = Seal(pair.Client, "third"u8);
        byte[][] frames = arrange(a, b, c);
        Assert.Equal("first"u8.ToArray(), Open(pair.Server, frames[0]).Plaintext);
        byte[] destination = new byte[100];
        var error = Assert.Throws<OssuaryException>(() => pair.Server.Receive(frames[1], destination, out _, out _));
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, error.ErrorCode);
        Assert.All(destination, b => Assert.Equal(0, b));
        AssertStaysFailed(pair.Server, OssuaryErrorCode.AuthenticationFailed);
    }

    [Fact]
    public void AuthenticPlaintextBeforeABadRecordIsHandedOverThenTheFailureReported()
    {
        using var pair = ConnectionPair.Established();
        byte[] good = Seal(pair.Client, "genuine"u8);
        byte[] bad = Seal(pair.Client, "tampered"u8);
        bad[^1] ^= 1;
        byte[] destination = new byte[100];
        byte[] input = [.. good, .. bad];
        Assert.Equal(OssuaryStatus.NeedMoreInput, pair.Server.Receive(input, destination, out int consumed, out int written));
        Assert.Equal(input.Length, consumed); // input after the failing frame is discarded with it
        Assert.Equal("genuine"u8.ToArray(), destination[..written]);
        Assert.All(destination[written..], b => Assert.Equal(0, b));
        AssertStaysFailed(pair.Server, OssuaryErrorCode.AuthenticationFailed);
    }

    internal static void AssertStaysFailed(OssuaryConnection connection, OssuaryErrorCode code)
    {
        Assert.Equal(OssuaryConnectionState.Failed, connection.State);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(code, Assert.Throws<OssuaryException>(() => connection.Receive([1, 2, 3], new byte[10], out _, out _)).ErrorCode);
            Assert.Equal(code, Assert.Throws<OssuaryException>(() => connection.Send("x"u8, new byte[100], out _, out _)).ErrorCode);
            Assert.Equal(code, Assert.Throws<OssuaryException>(connection.Close).ErrorCode);
        }
    }

    [Fact]
    public void EndOfStreamWithoutCloseIsTruncation()
    {
        using var pair = ConnectionPair.Established();
        Assert.Equal("data"u8.ToArray(), Open(pair.Server, Seal(pair.Client, "data"u8)).Plaintext);
        var error = Assert.Throws<OssuaryException>(pair.Server.CompleteInput);
        Assert.Equal(OssuaryErrorCode.Truncated, error.ErrorCode);
        AssertStaysFailed(pair.Server, OssuaryErrorCode.Truncated);
    }

    [Fact]
    public void EndOfStreamInsideARecordIsTruncation()
    {
        using var pair = ConnectionPair.Established();
        byte[] frame = Seal(pair.Client, Bytes(300));
        Assert.Equal(OssuaryStatus.NeedMoreInput, pair.Server.Receive(frame.AsSpan(0, 200), new byte[1000], out _, out int written));
        Assert.Equal(0, written);
        Assert.Equal(OssuaryErrorCode.Truncated, Assert.Throws<OssuaryException>(pair.Server.CompleteInput).ErrorCode);
    }

    [Fact]
    public void CloseIsAuthenticatedAndHalfClosesOneDirection()
    {
        using var pair = ConnectionPair.Established();
        pair.ClientSends("last words"u8);
        pair.Client.Close();
        pair.Client.Close(); // idempotent
        Assert.True(pair.Client.IsLocalClosed);
        pair.Pump();
        Assert.Equal("last words"u8.ToArray(), pair.ServerReceived);
        Assert.True(pair.Server.IsRemoteClosed);
        Assert.Equal(OssuaryStatus.Closed, pair.Server.Receive(default, new byte[10], out _, out _));
        pair.Server.CompleteInput(); // a clean end after the close

        // The other direction keeps flowing until the server closes too.
        Assert.Equal(OssuaryConnectionState.Established, pair.Server.State);
        pair.ServerSends("reply after your close"u8);
        pair.Pump();
        Assert.Equal("reply after your close"u8.ToArray(), pair.ClientReceived);
        Assert.Throws<InvalidOperationException>(() => pair.Client.Send("more"u8, new byte[100], out _, out _));
        Assert.Equal(OssuaryConnectionState.Established, pair.Client.State); // a usage error, not a fatal one

        pair.Server.Close();
        pair.Pump();
        Assert.Equal(OssuaryConnectionState.Closed, pair.Client.State);
        Assert.Equal(OssuaryConnectionState.Closed, pair.Server.State);
    }

    [Fact]
    public void NothingAfterACloseIsConsumedOrDelivered()
    {
        using var pair = ConnectionPair.Established();
        pair.Client.Close();
        byte[] close = HandshakeTests.Drain(pair.Client);
        Assert.Equal(OssuaryStatus.Closed, Open(pair.Server, close).Status);
        byte[] destination = new byte[100];
        Assert.Equal(OssuaryStatus.Closed, pair.Server.Receive(close, destination, out int consumed, out int written));
        Assert.Equal((0, 0), (consumed, written));
    }

    [Fact]
    public void KeyUpdatesHappenAtTheRecordThresholdAndAreFollowed()
    {
        using var pair = ConnectionPair.Established(client: c => c.KeyUpdateAfterRecords = 3);
        var expected = new List<byte>();
        for (int i = 0; i < 20; i++)
        {
            byte[] message = Bytes(100, seed: i);
            expected.AddRange(message);
            pair.ClientSends(message);
        }
        pair.Pump();
        Assert.Equal(expected, pair.ServerReceived);
        Assert.Equal(6, pair.Client.SendKeyUpdates);   // before records 4, 7, 10, 13, 16 and 19
        Assert.Equal(6, pair.Server.ReceiveKeyUpdates);
    }

    [Fact]
    public void KeyUpdatesHappenAtTheByteThreshold()
    {
        using var pair = ConnectionPair.Established(client: c => c.KeyUpdateAfterBytes = 1000);
        for (int i = 0; i < 10; i++)
        {
            pair.ClientSends(Bytes(500, seed: i));
        }
        pair.Pump();
        Assert.Equal(5000, pair.ServerReceived.Count);
        Assert.Equal(4, pair.Client.SendKeyUpdates); // after every 1000 bytes, before records 3, 5, 7, 9
        Assert.Equal(4, pair.Server.ReceiveKeyUpdates);
    }

    [Fact]
    public void OnDemandKeyUpdateNeedsNoRoundTripAndOldRecordsNoLongerDecrypt()
    {
        using var pair = ConnectionPair.Established();
        byte[] beforeUpdate = Seal(pair.Client, "old key"u8);
        pair.Client.RequestKeyUpdate();
        byte[] update = HandshakeTests.Drain(pair.Client);
        byte[] afterUpdate = Seal(pair.Client, "new key"u8);
        Assert.Equal("old key"u8.ToArray(), Open(pair.Server, beforeUpdate).Plaintext);
        Assert.Empty(Open(pair.Server, update).Plaintext);
        Assert.Equal(1, pair.Server.ReceiveKeyUpdates);
        Assert.Equal("new key"u8.ToArray(), Open(pair.Server, afterUpdate).Plaintext);
    }

    [Fact]
    public void PingIsAnsweredWithAPong()
    {
        using var pair = ConnectionPair.Established();
        pair.Client.Ping("are you there"u8);
        pair.Pump();
        Assert.Equal(1, pair.Client.PongsReceived);
        Assert.Empty(pair.ServerReceived);
        Assert.Throws<ArgumentException>(() => pair.Client.Ping(new byte[65]));
    }

    [Fact]
    public void APingFloodStopsBeingConsumedUntilThePongsAreSent()
    {
        using var pair = ConnectionPair.Established();
        for (int i = 0; i < 1000; i++)
        {
            pair.Client.Ping(new byte[64]);
        }
        byte[] pings = HandshakeTests.Drain(pair.Client);
        Assert.Equal(OssuaryStatus.OutputPending, pair.Server.Receive(pings, new byte[100], out int consumed, out _));
        Assert.True(consumed < pings.Length);
        // At most the bounded number of owed pongs (32 of 64 bytes) waits before input stops.
        Assert.Equal(32 * OssuaryConnection.GetFrameSize(64), HandshakeTests.Drain(pair.Server).Length);
        int total = consumed;
        while (total < pings.Length)
        {
            pair.Server.Receive(pings.AsSpan(total), new byte[100], out consumed, out _);
            total += consumed;
            HandshakeTests.Drain(pair.Server);
        }
    }

    [Fact]
    public void TooSmallSendBufferReportsTheSizeNeededAndConsumesNothing()
    {
        using var pair = ConnectionPair.Established();
        byte[] data = Bytes(100);
        Assert.Equal(OssuaryStatus.DestinationTooSmall, pair.Client.Send(data, new byte[10], out int consumed, out int written));
        Assert.Equal(0, consumed);
        Assert.Equal(0, written);
        Assert.Equal(119, pair.Client.RequiredDestinationSize);
        byte[] wire = new byte[pair.Client.RequiredDestinationSize];
        Assert.Equal(OssuaryStatus.Done, pair.Client.Send(data, wire, out consumed, out written));
        Assert.Equal((100, 119), (consumed, written));
        Assert.Equal(data, Open(pair.Server, wire).Plaintext);
    }

    [Fact]
    public void SendFillsWhatFitsAndContinuesLater()
    {
        using var pair = ConnectionPair.Established();
        byte[] data = Bytes(1000);
        byte[] wire = new byte[300];
        var received = new List<byte>();
        int offset = 0;
        while (offset < data.Length)
        {
            pair.Client.Send(data.AsSpan(offset), wire, out int consumed, out int written);
            Assert.True(consumed > 0);
            offset += consumed;
            received.AddRange(Open(pair.Server, wire.AsSpan(0, written)).Plaintext);
        }
        Assert.Equal(data, received);
    }

    [Fact]
    public void TinyReceiveBufferGetsThePlaintextPieceByPiece()
    {
        using var pair = ConnectionPair.Established();
        byte[] data = Bytes(50);
        byte[] wire = Seal(pair.Client, data);
        byte[] one = new byte[1];
        var received = new List<byte>();
        Assert.Equal(OssuaryStatus.DestinationTooSmall, pair.Server.Receive(wire, one, out int consumed, out int written));
        Assert.Equal(wire.Length, consumed); // the record is taken in and held, decrypted, inside
        received.AddRange(one[..written]);
        OssuaryStatus status;
        do
        {
            status = pair.Server.Receive(default, one, out _, out written);
            received.AddRange(one[..written]);
        }
        while (status == OssuaryStatus.DestinationTooSmall);
        Assert.Equal(OssuaryStatus.NeedMoreInput, status);
        Assert.Equal(data, received);
    }

    [Fact]
    public void RequiredDestinationSizeIsWhatTheNextCallNeedsToFinishItsUnit()
    {
        using var pair = ConnectionPair.Established();
        byte[] first = Bytes(1000), second = Bytes(300);
        byte[] wire = [.. Seal(pair.Client, first), .. Seal(pair.Client, second)];
        byte[] small = new byte[10];
        Assert.Equal(OssuaryStatus.DestinationTooSmall, pair.Server.Receive(wire, small, out int consumed, out int written));
        Assert.Equal(10, written);
        Assert.Equal(990, pair.Server.RequiredDestinationSize); // the rest of the record waiting inside
        byte[] rest = new byte[pair.Server.RequiredDestinationSize];
        Assert.Equal(OssuaryStatus.DestinationTooSmall, pair.Server.Receive(wire.AsSpan(consumed), rest, out int more, out written));
        Assert.Equal(990, written);
        Assert.Equal(0, more);
        Assert.Equal(first, (byte[])[.. small, .. rest]);
        Assert.Equal(300, pair.Server.RequiredDestinationSize); // the next record's plaintext, at most
        byte[] next = new byte[pair.Server.RequiredDestinationSize];
        Assert.Equal(OssuaryStatus.NeedMoreInput, pair.Server.Receive(wire.AsSpan(consumed), next, out more, out written));
        Assert.Equal(second, next[..written]);

        // Sending into a destination too small for any record: the size of the next whole record.
        Assert.Equal(OssuaryStatus.DestinationTooSmall, pair.Client.Send(Bytes(500), new byte[OssuaryConnection.GetFrameSize(0) - 1], out int taken, out _));
        Assert.Equal(0, taken);
        Assert.Equal(OssuaryConnection.GetFrameSize(500), pair.Client.RequiredDestinationSize);
    }

    [Fact]
    public void SendBeforeTheHandshakeEndsConsumesNothing()
    {
        using var client = OssuaryConnection.CreateClient(ConnectionPair.ClientOptions());
        byte[] wire = new byte[1000];
        Assert.Equal(OssuaryStatus.HandshakeInProgress, client.Send("early"u8, wire, out int consumed, out int written));
        Assert.Equal(0, consumed);
        Assert.Equal(2 + 8 + 32, written); // the pending first handshake frame was drained
        Assert.Throws<InvalidOperationException>(client.Close);
    }

    [Theory]
    [InlineData(256)]
    [InlineData(1000)]
    public void PaddingHidesExactLengths(int block)
    {
        using var pair = ConnectionPair.Established(client: c => c.PaddingBlockSize = block);
        var sizes = new HashSet<int>();
        for (int length = 1; length < 600; length += 37)
        {
            byte[] data = Bytes(length, seed: length);
            byte[] wire = Seal(pair.Client, data);
            Assert.Equal(0, (wire.Length - 2 - 16) % block);
            sizes.Add(wire.Length);
            Assert.Equal(data, Open(pair.Server, wire).Plaintext);
        }
        Assert.True(sizes.Count <= 600 / block + 1);
    }

    [Fact]
    public void PaddingIsCappedAtThePeersLimit()
    {
        using var pair = ConnectionPair.Established(client: c => c.PaddingBlockSize = 700, server: s => s.MaxRecordPayload = 1000);
        byte[] data = Bytes(900);
        byte[] wire = Seal(pair.Client, data);
        Assert.Equal(2 + 1001 + 16, wire.Length);
        Assert.Equal(data, Open(pair.Server, wire).Plaintext);
    }

    [Theory]
    [InlineData(OssuarySuite.ChaChaPolyBlake2b, 1024)]
    [InlineData(OssuarySuite.ChaChaPolyBlake2b, 16384)]
    [InlineData(OssuarySuite.AesGcmSha256, 1024)]
    [InlineData(OssuarySuite.AesGcmSha256, 16384)]
    public void SteadyStateSendAndReceiveAllocateNothing(OssuarySuite suite, int size)
    {
        using var pair = ConnectionPair.Established(client: c => c.Suite = suite);
        byte[] data = Bytes(size);
        byte[] wire = new byte[size + 100];
        byte[] plaintext = new byte[size];
        byte[] small = new byte[size / 2];

        void RoundTrip()
        {
            pair.Client.Send(data, wire, out _, out int written);
            pair.Server.Receive(wire.AsSpan(0, written), plaintext, out _, out _);
            // The buffered path: a destination smaller than the record.
            pair.Client.Send(data, wire, out _, out written);
            pair.Server.Receive(wire.AsSpan(0, written), small, out _, out _);
            pair.Server.Receive(default, small, out _, out _);
            pair.Server.Receive(default, small, out _, out _);
        }

        for (int i = 0; i < 50; i++)
        {
            RoundTrip();
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 500; i++)
        {
            RoundTrip();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(data, plaintext);
    }
}
