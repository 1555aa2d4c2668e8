using System.Buffers.Binary;
using OssuaryNet.Protocol;
using Xunit;

namespace OssuaryNet.Tests;

public sealed class OutputQueueTests
{
    [Fact]
    public void CommittedFramesSurviveGrowthAndDrainInOrder()
    {
        using var queue = new OutputQueue();
        var expected = new List<byte>();
        for (int i = 0; i < 300; i++)
        {
            Span<byte> frame = queue.BeginFrame(1 + i % 97);
            for (int j = 2; j < frame.Length; j++)
            {
                frame[j] = (byte)(i + j);
            }
            queue.CommitFrame();
            expected.AddRange(frame.ToArray());
            if (i % 50 == 49)
            {
                byte[] part = new byte[137];
                int drained = queue.Drain(part);
                Assert.Equal(expected.Take(drained), part.Take(drained));
                expected.RemoveRange(0, drained);
            }
        }
        byte[] rest = new byte[expected.Count + 10];
        Assert.Equal(expected.Count, queue.Drain(rest));
        Assert.Equal(expected, rest.Take(expected.Count));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void AFrameThatIsNotCommittedIsNeverDrained()
    {
        using var queue = new OutputQueue();
        queue.BeginFrame(3).Fill(0xAA);
        queue.CommitFrame();
        queue.BeginFrame(40).Fill(0x5C); // building it "fails": never committed
        Assert.Equal(5, queue.Count);
        byte[] output = new byte[100];
        Assert.Equal(5, queue.Drain(output));
        Assert.DoesNotContain((byte)0x5C, output);
    }

    [Fact]
    public void ANewFrameWipesAnAbandonedOne()
    {
        using var queue = new OutputQueue();
        queue.BeginFrame(3).Fill(0x5C);
        Span<byte> second = queue.BeginFrame(3);
        Assert.Equal(new byte[] { 0, 3, 0, 0, 0 }, second.ToArray());
    }

    [Fact]
    public void DiscardUnsentKeepsOnlyTheRestOfAPartlyDrainedFrame()
    {
        using var queue = new OutputQueue();
        for (int i = 0; i < 4; i++)
        {
            queue.BeginFrame(10).Slice(2).Fill((byte)(i + 1));
            queue.CommitFrame();
        }
        byte[] first = new byte[15]; // the whole first frame (12 bytes) and 3 bytes of the second
        Assert.Equal(15, queue.Drain(first));
        queue.BeginFrame(10).Fill(0x5C); // half-built
        queue.DiscardUnsent();

        Assert.Equal(9, queue.Count); // the second frame's other 9 bytes, nothing after it
        byte[] rest = new byte[64];
        Assert.Equal(9, queue.Drain(rest));
        Assert.All(rest[..9], b => Assert.Equal(2, b));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void DiscardUnsentBetweenFramesDropsEverything()
    {
        using var queue = new OutputQueue();
        for (int i = 0; i < 3; i++)
        {
            queue.BeginFrame(5).Slice(2).Fill(7);
            queue.CommitFrame();
        }
        Assert.Equal(7, queue.Drain(new byte[7]));
        queue.DiscardUnsent();
        Assert.Equal(0, queue.Count);

        // The queue is usable afterwards, and well framed.
        queue.BeginFrame(2).Slice(2).Fill(9);
        queue.CommitFrame();
        byte[] output = new byte[4];
        Assert.Equal(4, queue.Drain(output));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(output));
    }
}
