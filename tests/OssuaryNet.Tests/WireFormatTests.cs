using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OssuaryNet.Protocol;
using Xunit;

namespace OssuaryNet.Tests;

public sealed class WireFormatTests
{
    [Theory]
    [InlineData(0UL, "00")]
    [InlineData(37UL, "25")]
    [InlineData(15293UL, "7bbd")]
    [InlineData(494878333UL, "9d7f3e7d")]
    [InlineData(151288809941952652UL, "c2197c5eff14e88c")]
    public void VarIntsMatchTheRfc9000Examples(ulong value, string hex)
    {
        byte[] buffer = new byte[8];
        int length = VarInt.Write(value, buffer);
        Assert.Equal(hex, Convert.ToHexStringLower(buffer, 0, length));
        Assert.True(VarInt.TryRead(buffer.AsSpan(0, length), out ulong read, out int used));
        Assert.Equal((value, length), (read, used));
        Assert.False(VarInt.TryRead(buffer.AsSpan(0, length - 1), out _, out _));
    }

    [Property(MaxTest = 10_000, Replay = "(20261128,3)")]
    public Property VarIntsRoundTrip() =>
        Prop.ForAll(Gen.Choose(0, 62).SelectMany(bits => ArbMap.Default.GeneratorFor<ulong>().Select(v => bits == 0 ? 0 : v >> (64 - bits))).ToArbitrary(), value =>
        {
            byte[] buffer = new byte[8];
            int length = VarInt.Write(value, buffer);
            return VarInt.TryRead(buffer, out ulong read, out int used) && read == value && used == length && length == VarInt.SizeOf(value);
        });

    [Fact]
    public void ExtensionsRoundTrip()
    {
        var extensions = new HandshakeExtensions
        {
            MaxRecordPayload = 4096,
            ApplicationProtocols = ["h2", "chat/1"],
            SelectedApplicationProtocol = "chat/1",
            EarlyData = new byte[] { 1, 2, 3 },
        };
        byte[] encoded = new byte[extensions.EncodedLength];
        extensions.Encode(encoded);
        HandshakeExtensions decoded = HandshakeExtensions.Decode(encoded);
        Assert.Equal(4096, decoded.MaxRecordPayload);
        Assert.Equal(["h2", "chat/1"], decoded.ApplicationProtocols);
        Assert.Equal("chat/1", decoded.SelectedApplicationProtocol);
        Assert.Equal(new byte[] { 1, 2, 3 }, decoded.EarlyData?.ToArray());
    }

    [Fact]
    public void UnknownNonCriticalExtensionsAreIgnoredAndUnknownCriticalOnesFail()
    {
        Assert.Null(HandshakeExtensions.Decode([0x40, 0x10, 2, 0xAA, 0xBB]).MaxRecordPayload); // type 16, even
        var error = Assert.Throws<OssuaryException>(() => HandshakeExtensions.Decode([0x40, 0x11, 0])); // type 17, odd
        Assert.Equal(OssuaryErrorCode.UnsupportedExtension, error.ErrorCode);
    }

    [Theory]
    [InlineData(new byte[] { 0x02 })]                     // type without length
    [InlineData(new byte[] { 0x02, 0x05, 0x01 })]         // length beyond the payload
    [InlineData(new byte[] { 0x02, 0x01, 0x01 })]         // record limit below the minimum
    [InlineData(new byte[] { 0x02, 0x01, 0x3f, 0x02, 0x01, 0x3f })] // duplicate
    [InlineData(new byte[] { 0x04, 0x02, 0x00, 0x00 })]   // empty protocol name
    [InlineData(new byte[] { 0x06, 0x01, 0xff })]         // not UTF-8
    public void MalformedExtensionsAreTyped(byte[] payload)
    {
        var error = Assert.Throws<OssuaryException>(() => HandshakeExtensions.Decode(payload));
        Assert.Equal(OssuaryErrorCode.MalformedHandshake, error.ErrorCode);
    }

    [Property(MaxTest = 10_000, Replay = "(20261128,3)")]
    public Property RandomExtensionBytesNeverThrowAnythingButOssuaryException() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            try
            {
                HandshakeExtensions.Decode(bytes);
            }
            catch (OssuaryException)
            {
            }
            return true;
        });

    [Property(MaxTest = 10_000, Replay = "(20261128,3)")]
    public Property RandomBytesIntoAServerNeverThrowAnythingButOssuaryException() =>
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            using var server = OssuaryConnection.CreateServer(ConnectionPair.ServerOptions());
            try
            {
                server.Receive(bytes, new byte[1000], out _, out _);
                server.VerifyPendingPeer();
                server.CompleteInput();
            }
            catch (OssuaryException)
            {
            }
            return true;
        });
}
