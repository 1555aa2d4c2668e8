using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>FsCheck properties: 10,000 cases each, from fixed seeds so that CI runs the same cases every time.</summary>
public sealed class PropertyTests
{
    private static readonly Transcript XX = Transcript.Record(ik: false, Message(1, 10), Message(2, 3000), Message(3, 20000), Message(4, 1));
    private static readonly Transcript IK = Transcript.Record(ik: true, Message(5, 700), Message(6, 17000));

    private static byte[] Message(int seed, int length)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private const int Cases = 10_000;
    private const string Seed = "(20261128,7)";

    /// <summary>Random chunk sizes, from one byte at a time to whole frames at once.</summary>
    private static Gen<int[]> Chunkings(int total) =>
        Gen.OneOf(Gen.Choose(1, 3), Gen.Choose(1, 100), Gen.Choose(1, 70000))
            .ArrayOf()
            .Select(sizes => sizes.Length == 0 ? [total] : sizes);

    [Property(MaxTest = Cases, Replay = Seed)]
    public Property AnyChunkingGivesTheSamePlaintextAndCleanCloseXX() => AnyChunking(XX);

    [Property(MaxTest = Cases, Replay = Seed)]
    public Property AnyChunkingGivesTheSamePlaintextAndCleanCloseIK() => AnyChunking(IK);

    private static Property AnyChunking(Transcript transcript) =>
        Prop.ForAll(Chunkings(transcript.Bytes.Length).ToArbitrary(), chunks =>
        {
            var (plaintext, closed, error) = Transcript.Replay(transcript.Bytes, chunks);
            return error is null && closed && plaintext.AsSpan().SequenceEqual(transcript.Plaintext);
        });

    [Fact]
    public void OneByteAtATimeEqualsTheWholeTranscript()
    {
        foreach (Transcript transcript in new[] { XX, IK })
        {
            var whole = Transcript.Replay(transcript.Bytes, [transcript.Bytes.Length]);
            var bytewise = Transcript.Replay(transcript.Bytes, Enumerable.Repeat(1, transcript.Bytes.Length));
            Assert.Null(whole.Error);
            Assert.Null(bytewise.Error);
            Assert.True(whole.Closed && bytewise.Closed);
            Assert.Equal(transcript.Plaintext, whole.Plaintext);
            Assert.Equal(whole.Plaintext, bytewise.Plaintext);
        }
    }

    /// <summary>
    /// Flipping any single bit anywhere (handshake, length prefixes, records) is detected: the server either fails or
    /// is left waiting without a clean close, and it releases exactly the plaintext of the frames before the damaged one.
    /// </summary>
    [Property(MaxTest = Cases, Replay = Seed)]
    public Property AnySingleBitFlipIsDetectedAndReleasesNothingOfItsFrameXX() => AnyBitFlip(XX);

    [Property(MaxTest = Cases, Replay = Seed)]
    public Property AnySingleBitFlipIsDetectedAndReleasesNothingOfItsFrameIK() => AnyBitFlip(IK);

    private static Property AnyBitFlip(Transcript transcript)
    {
        Gen<(int, int)> flips = Gen.Choose(0, transcript.Bytes.Length - 1).SelectMany(position => Gen.Choose(0, 7).Select(bit => (position, bit)));
        return Prop.ForAll(flips.ToArbitrary(), flip => CheckFlip(transcript, flip.Item1, flip.Item2));
    }

    [Fact]
    public void EveryBitOfTheHandshakeIsProtected()
    {
        foreach (Transcript transcript in new[] { XX, IK })
        {
            int handshakeEnd = transcript.Frames[transcript.Ik ? 0 : 1].End;
            for (int position = 0; position < handshakeEnd; position++)
            {
                Assert.True(CheckFlip(transcript, position, position % 8), $"flip at {position} not detected");
            }
        }
    }

    private static bool CheckFlip(Transcript transcript, int position, int bit)
    {
        byte[] damaged = transcript.Bytes.ToArray();
        damaged[position] ^= (byte)(1 << bit);
        var (plaintext, closed, error) = Transcript.Replay(damaged, [damaged.Length]);
        var frame = transcript.Frames.First(f => position >= f.Start && position < f.End);
        bool detected = error is not null || !closed;
        return detected && plaintext.AsSpan().SequenceEqual(transcript.Plaintext.AsSpan(0, frame.PlaintextBefore));
    }

    [Property(MaxTest = Cases, Replay = Seed)]
    public Property RandomPayloadSizesRoundTripInBothDirections()
    {
        var pair = ConnectionPair.Established();
        Gen<byte[]> payloads = Gen.Choose(0, 70000).SelectMany(length => Gen.Choose(0, int.MaxValue).Select(seed => Message(seed, length)));
        return Prop.ForAll(payloads.ToArbitrary(), payload =>
        {
            pair.ClientReceived.Clear();
            pair.ServerReceived.Clear();
            pair.ClientSends(payload);
            pair.ServerSends(payload);
            pair.Pump();
            return pair.ServerReceived.ToArray().AsSpan().SequenceEqual(payload) && pair.ClientReceived.ToArray().AsSpan().SequenceEqual(payload);
        });
    }

    [Fact]
    public void MaximumRecordPayloadRoundTrips()
    {
        using var pair = ConnectionPair.Established(
            client: c => c.MaxRecordPayload = OssuaryConnection.MaxRecordPayload,
            server: s => s.MaxRecordPayload = OssuaryConnection.MaxRecordPayload);
        byte[] payload = Message(9, OssuaryConnection.MaxRecordPayload);
        byte[] wire = new byte[OssuaryConnection.GetFrameSize(payload.Length)];
        Assert.Equal(OssuaryStatus.Done, pair.Client.Send(payload, wire, out int consumed, out int written));
        Assert.Equal((payload.Length, 65537), (consumed, written));
        byte[] plaintext = new byte[payload.Length];
        pair.Server.Receive(wire, plaintext, out _, out int received);
        Assert.Equal(payload.Length, received);
        Assert.Equal(payload, plaintext);
    }
}
