using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>The inner plaintext of Data packets: content, type, zero padding.</summary>
public sealed class DatagramInnerTests
{
    [Property(MaxTest = 10_000, Replay = "(20261128,9)")]
    public Property DatagramsRoundTripWithAnyPadding()
    {
        Gen<(byte[], int)> cases = Gen.Choose(0, 300).SelectMany(length =>
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length).SelectMany(content =>
                Gen.Elements(0, 1, 16, 64, 256).Select(block => (content, block))));
        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            (byte[] content, int block) = c;
            byte[] inner = new byte[DatagramInner.Length(content.Length, block)];
            DatagramInner.Write(DatagramContentType.Datagram, content, inner);
            bool read = DatagramInner.TryRead(inner, out DatagramContentType type, out ReadOnlySpan<byte> back);
            return read && type == DatagramContentType.Datagram && back.SequenceEqual(content)
                   && (block == 0 ? inner.Length == content.Length + 1 : inner.Length % block == 0);
        });
    }

    [Fact]
    public void ControlMessagesHaveFixedSizesAndUnknownTypesAreMalformed()
    {
        byte[] close = new byte[3];
        DatagramInner.Write(DatagramContentType.Close, [0x01, 0x00], close);
        Assert.True(DatagramInner.TryRead(close, out DatagramContentType type, out ReadOnlySpan<byte> reason));
        Assert.Equal(DatagramContentType.Close, type);
        Assert.Equal(new byte[] { 1, 0 }, reason.ToArray());

        Assert.True(DatagramInner.TryRead([], out type, out _));
        Assert.Equal(DatagramContentType.Keepalive, type);

        Assert.False(DatagramInner.TryRead([1, 2, 3, 0x02], out _, out _));          // a close of 3 bytes
        Assert.False(DatagramInner.TryRead([1, 2, 3, 0x03, 0, 0], out _, out _));    // a challenge of 3 bytes
        Assert.True(DatagramInner.TryRead([1, 2, 3, 4, 5, 6, 7, 8, 0x04, 0], out type, out _));
        Assert.Equal(DatagramContentType.PathResponse, type);
        Assert.False(DatagramInner.TryRead([9, 0x05], out _, out _));                 // unknown type
        Assert.False(DatagramInner.TryRead([0, 0, 0], out _, out _));                 // padding without a type
        Assert.Throws<ArgumentException>(() => DatagramInner.Write(DatagramContentType.Keepalive, [], new byte[1]));
    }
}
