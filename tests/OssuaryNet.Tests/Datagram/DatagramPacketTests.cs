using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>The layouts of datagram-mode packets: round trips, and every truncation and bit flip refused or caught.</summary>
public sealed class DatagramPacketTests
{
    private static readonly byte[] Noise = Enumerable.Range(1, 96).Select(i => (byte)i).ToArray();
    private static readonly byte[] TokenBytes = Enumerable.Range(200, 17).Select(i => (byte)i).ToArray();

    private static byte[] Mac1Key()
    {
        byte[] key = new byte[Mac1.KeySize];
        Mac1.DeriveKey(TestKeys.Server.PublicKey.Bytes, key);
        return key;
    }

    public static TheoryData<string> PacketKinds => new() { "initiation", "response", "finish", "cookie", "data" };

    private static byte[] Build(string kind)
    {
        byte[] buffer = new byte[2048];
        int length = kind switch
        {
            "initiation" => DatagramPacket.WriteInitiation(buffer, 2, 0xA1B2C3D4, TokenBytes, Noise, Mac1Key()),
            "response" => DatagramPacket.WriteResponse(buffer, 1, 7, 0xA1B2C3D4, Noise),
            "finish" => DatagramPacket.WriteFinish(buffer, 7, Noise),
            "cookie" => DatagramPacket.WriteCookieReply(buffer, 0xA1B2C3D4, new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }, TokenBytes),
            _ => WriteData(buffer),
        };
        return buffer[..length];
    }

    private static int WriteData(byte[] buffer)
    {
        DatagramPacket.WriteDataHeader(buffer, 0x01020304, 0x1122334455667788);
        Noise.AsSpan(0, 40).CopyTo(buffer.AsSpan(DatagramPacket.DataHeaderSize)); // stands for ciphertext and tag
        return DatagramPacket.DataHeaderSize + 40;
    }

    [Fact]
    public void EveryPacketTypeRoundTrips()
    {
        Assert.True(DatagramPacket.TryParse(Build("initiation"), out ParsedDatagram initiation, out _));
        Assert.Equal((DatagramPacketType.Initiation, (byte)2, 0xA1B2C3D4u), (initiation.Type, initiation.Pattern, initiation.SenderSession));
        Assert.Equal(TokenBytes, initiation.Token.ToArray());
        Assert.Equal(Noise, initiation.NoiseMessage.ToArray());
        Assert.Equal(DatagramPacket.MinInitiationSize, Build("initiation").Length);
        Assert.True(Mac1.Matches(Mac1Key(), initiation));

        Assert.True(DatagramPacket.TryParse(Build("response"), out ParsedDatagram response, out _));
        Assert.Equal((DatagramPacketType.Response, (byte)1, 7u, 0xA1B2C3D4u), (response.Type, response.Pattern, response.SenderSession, response.ReceiverSession));
        Assert.Equal(Noise, response.NoiseMessage.ToArray());

        Assert.True(DatagramPacket.TryParse(Build("finish"), out ParsedDatagram finish, out _));
        Assert.Equal((DatagramPacketType.Finish, 7u), (finish.Type, finish.ReceiverSession));

        byte[] cookieBytes = Build("cookie");
        Assert.Equal(24 + TokenBytes.Length, cookieBytes.Length); // no larger than what it answers
        Assert.True(DatagramPacket.TryParse(cookieBytes, out ParsedDatagram cookie, out _));
        Assert.Equal((DatagramPacketType.CookieReply, 0xA1B2C3D4u), (cookie.Type, cookie.ReceiverSession));
        Assert.Equal(TokenBytes, cookie.Token.ToArray());

        Assert.True(DatagramPacket.TryParse(Build("data"), out ParsedDatagram data, out _));
        Assert.Equal((DatagramPacketType.Data, 0x01020304u, 0x1122334455667788ul), (data.Type, data.ReceiverSession, data.Counter));
        Assert.Equal(Build("data")[..16], data.Header.ToArray());
        Assert.Equal(40, data.Ciphertext.Length);
    }

    [Theory]
    [MemberData(nameof(PacketKinds))]
    public void EveryTruncationIsRefusedOrLeftToTheAead(string kind)
    {
        byte[] packet = Build(kind);
        for (int length = 0; length < packet.Length; length++)
        {
            bool parsed = DatagramPacket.TryParse(packet.AsSpan(0, length), out ParsedDatagram result, out DatagramDropReason reason);
            if (parsed)
            {
                // Only a Data packet can be cut and still parse; its tag then fails to authenticate.
                Assert.Equal("data", kind);
                Assert.True(length >= 32);
                Assert.Equal(length - 16, result.Ciphertext.Length);
            }
            else
            {
                Assert.True(Enum.IsDefined(reason), $"{kind} cut to {length}: no reason");
            }
        }
    }

    [Theory]
    [MemberData(nameof(PacketKinds))]
    public void EveryBitFlipIsRefusedCaughtOrChangesAField(string kind)
    {
        byte[] packet = Build(kind);
        Assert.True(DatagramPacket.TryParse(packet, out ParsedDatagram original, out _));
        string before = Describe(original);
        for (int bit = 0; bit < packet.Length * 8; bit++)
        {
            byte[] flipped = (byte[])packet.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            if (!DatagramPacket.TryParse(flipped, out ParsedDatagram result, out DatagramDropReason reason))
            {
                Assert.True(Enum.IsDefined(reason));
                continue;
            }
            if (kind == "initiation")
            {
                Assert.False(Mac1.Matches(Mac1Key(), result), $"bit {bit} of an Initiation passed mac1");
            }
            else
            {
                // Unauthenticated fields may change (the AEAD or the handshake catches them), but the parse must show it.
                Assert.NotEqual(before, Describe(result));
            }
        }
    }

    [Fact]
    public void UnknownTypesVersionsAndOversizePacketsHaveTheirOwnReasons()
    {
        byte[] data = Build("data");
        data[0] = 0x06;
        Assert.False(DatagramPacket.TryParse(data, out _, out DatagramDropReason reason));
        Assert.Equal(DatagramDropReason.UnknownTypeOrVersion, reason);
        data = Build("data");
        data[1] = 2;
        Assert.False(DatagramPacket.TryParse(data, out _, out reason));
        Assert.Equal(DatagramDropReason.UnknownTypeOrVersion, reason);
        Assert.False(DatagramPacket.TryParse(new byte[DatagramPacket.MaxDatagramSize + 1], out _, out reason));
        Assert.Equal(DatagramDropReason.Oversize, reason);
        Assert.False(DatagramPacket.TryParse([1], out _, out reason));
        Assert.Equal(DatagramDropReason.Malformed, reason);
    }

    [Fact]
    public void AnInitiationForAnotherResponderFailsMac1()
    {
        byte[] otherKey = new byte[Mac1.KeySize];
        Mac1.DeriveKey(TestKeys.Other.PublicKey.Bytes, otherKey);
        Assert.True(DatagramPacket.TryParse(Build("initiation"), out ParsedDatagram initiation, out _));
        Assert.False(Mac1.Matches(otherKey, initiation));
    }

    [Property(MaxTest = 10_000, Replay = "(20261128,7)")]
    public Property RandomBytesNeverThrowAndAreRefusedWithAReasonOrParsed()
    {
        Gen<byte[]> packets = Gen.Choose(0, 1400).SelectMany(length =>
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), length)
                .SelectMany(bytes => Gen.Choose(1, 5).Select(type =>
                {
                    if (bytes.Length >= 2 && type % 2 == 0)
                    {
                        bytes[0] = (byte)type;  // half of them with a valid type and version, to reach the layouts
                        bytes[1] = DatagramPacket.Version;
                    }
                    return bytes;
                })));
        return Prop.ForAll(packets.ToArbitrary(), bytes =>
            DatagramPacket.TryParse(bytes, out _, out DatagramDropReason reason) || Enum.IsDefined(reason));
    }

    private static string Describe(in ParsedDatagram p) =>
        $"{p.Type} {p.Pattern} {p.SenderSession} {p.ReceiverSession} {p.Counter} {Convert.ToHexString(p.Token)} {Convert.ToHexString(p.NoiseMessage)} {Convert.ToHexString(p.Mac)} {Convert.ToHexString(p.Ciphertext)}";
}
