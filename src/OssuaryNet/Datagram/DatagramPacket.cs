using System.Buffers.Binary;

namespace OssuaryNet.Datagram;

/// <summary>
/// The layouts of datagram-mode packets (integers little-endian, as Noise's nonce). Every packet starts
/// <c>type:u8, version:u8 (=1)</c>; reserved bytes and padding are zero, and session ids are never 0.
/// <code>
///   Initiation  type · ver · pattern · T · initiator id u32 · token[T] · noise length u16 · noise · zeros · mac1[16]   (≥ 1200 bytes)
///   Response    type · ver · pattern · 0 · responder id u32 · initiator id u32 · noise length u16 · noise
///   Finish      type · ver · 0 · 0 · responder id u32 · noise length u16 · noise
///   CookieReply type · ver · 0 · T · initiator id u32 · echo of mac1[16] · token[T]                                   (24 + T bytes)
///   Data        type · ver · 0 · 0 · receiver id u32 · counter u64 · ciphertext and tag                               (≥ 32 bytes)
/// </code>
/// Parsing never throws: a packet either parses into its fields or is refused with the reason to count.
/// </summary>
internal static class DatagramPacket
{
    public const byte Version = 1;
    public const int MinInitiationSize = 1200;
    public const int MacSize = 16;
    public const int MaxTokenSize = 32;
    public const int DataHeaderSize = 16;
    public const int TagSize = 16;
    public const int MaxDatagramSize = 65507; // the largest UDP payload over IPv4

    /// <summary>Checks <paramref name="packet"/>'s layout; on success <paramref name="parsed"/> views its fields.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out ParsedDatagram parsed, out DatagramDropReason reason)
    {
        parsed = default;
        reason = DatagramDropReason.Malformed;
        if (packet.Length < 2)
        {
            return false;
        }
        if (packet.Length > MaxDatagramSize)
        {
            reason = DatagramDropReason.Oversize;
            return false;
        }
        if (packet[1] != Version || packet[0] is < (byte)DatagramPacketType.Initiation or > (byte)DatagramPacketType.Data)
        {
            reason = DatagramDropReason.UnknownTypeOrVersion;
            return false;
        }
        bool parsedOk = (DatagramPacketType)packet[0] switch
        {
            DatagramPacketType.Initiation => TryParseInitiation(packet, out parsed),
            DatagramPacketType.Response => TryParseResponse(packet, out parsed),
            DatagramPacketType.Finish => TryParseFinish(packet, out parsed),
            DatagramPacketType.CookieReply => TryParseCookieReply(packet, out parsed),
            _ => TryParseData(packet, out parsed),
        };
        if (parsedOk)
        {
            reason = default;
        }
        return parsedOk;
    }

    private static bool TryParseInitiation(ReadOnlySpan<byte> packet, out ParsedDatagram parsed)
    {
        parsed = default;
        if (packet.Length < MinInitiationSize || !IsPattern(packet[2]) || packet[3] > MaxTokenSize)
        {
            return false;
        }
        int tokenLength = packet[3];
        uint initiator = BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]);
        int noiseAt = 8 + tokenLength + 2;
        int noiseLength = BinaryPrimitives.ReadUInt16LittleEndian(packet[(8 + tokenLength)..]);
        int macAt = packet.Length - MacSize;
        if (initiator == 0 || noiseLength == 0 || noiseAt + noiseLength > macAt || packet[(noiseAt + noiseLength)..macAt].ContainsAnyExcept((byte)0))
        {
            return false;
        }
        parsed = new ParsedDatagram
        {
            Type = DatagramPacketType.Initiation,
            Pattern = packet[2],
            SenderSession = initiator,
            Token = packet.Slice(8, tokenLength),
            NoiseMessage = packet.Slice(noiseAt, noiseLength),
            Mac = packet[macAt..],
            MacCovered = packet[..macAt],
        };
        return true;
    }

    private static bool TryParseResponse(ReadOnlySpan<byte> packet, out ParsedDatagram parsed)
    {
        parsed = default;
        if (packet.Length < 14 || !IsPattern(packet[2]) || packet[3] != 0)
        {
            return false;
        }
        uint responder = BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]);
        uint initiator = BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]);
        int noiseLength = BinaryPrimitives.ReadUInt16LittleEndian(packet[12..]);
        if (responder == 0 || initiator == 0 || noiseLength == 0 || 14 + noiseLength != packet.Length)
        {
            return false;
        }
        parsed = new ParsedDatagram
        {
            Type = DatagramPacketType.Response,
            Pattern = packet[2],
            SenderSession = responder,
            ReceiverSession = initiator,
            NoiseMessage = packet[14..],
        };
        return true;
    }

    private static bool TryParseFinish(ReadOnlySpan<byte> packet, out ParsedDatagram parsed)
    {
        parsed = default;
        if (packet.Length < 10 || packet[2] != 0 || packet[3] != 0)
        {
            return false;
        }
        uint responder = BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]);
        int noiseLength = BinaryPrimitives.ReadUInt16LittleEndian(packet[8..]);
        if (responder == 0 || noiseLength == 0 || 10 + noiseLength != packet.Length)
        {
            return false;
        }
        parsed = new ParsedDatagram { Type = DatagramPacketType.Finish, ReceiverSession = responder, NoiseMessage = packet[10..] };
        return true;
    }

    private static bool TryParseCookieReply(ReadOnlySpan<byte> packet, out ParsedDatagram parsed)
    {
        parsed = default;
        if (packet.Length < 24 || packet[2] != 0 || packet[3] > MaxTokenSize || packet.Length != 24 + packet[3])
        {
            return false;
        }
        uint initiator = BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]);
        if (initiator == 0 || packet[3] == 0)
        {
            return false;
        }
        parsed = new ParsedDatagram
        {
            Type = DatagramPacketType.CookieReply,
            ReceiverSession = initiator,
            Mac = packet.Slice(8, MacSize),
            Token = packet[24..],
        };
        return true;
    }

    private static bool TryParseData(ReadOnlySpan<byte> packet, out ParsedDatagram parsed)
    {
        parsed = default;
        if (packet.Length < DataHeaderSize + TagSize || packet[2] != 0 || packet[3] != 0)
        {
            return false;
        }
        uint receiver = BinaryPrimitives.ReadUInt32LittleEndian(packet[4..]);
        if (receiver == 0)
        {
            return false;
        }
        parsed = new ParsedDatagram
        {
            Type = DatagramPacketType.Data,
            ReceiverSession = receiver,
            Counter = BinaryPrimitives.ReadUInt64LittleEndian(packet[8..]),
            Header = packet[..DataHeaderSize],
            Ciphertext = packet[DataHeaderSize..],
        };
        return true;
    }

    private static bool IsPattern(byte pattern) => pattern is >= 1 and <= 4; // XX, IK, XXhfs, IKhfs

    /// <summary>
    /// Writes an Initiation (padded to <see cref="MinInitiationSize"/>) and its mac1 under <paramref name="mac1Key"/>;
    /// returns its length.
    /// </summary>
    public static int WriteInitiation(Span<byte> destination, byte pattern, uint initiator, ReadOnlySpan<byte> token, ReadOnlySpan<byte> noise, ReadOnlySpan<byte> mac1Key)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(token.Length, MaxTokenSize);
        int length = Math.Max(MinInitiationSize, 8 + token.Length + 2 + noise.Length + MacSize);
        Span<byte> packet = destination[..length];
        packet.Clear();
        packet[0] = (byte)DatagramPacketType.Initiation;
        packet[1] = Version;
        packet[2] = pattern;
        packet[3] = (byte)token.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(packet[4..], initiator);
        token.CopyTo(packet[8..]);
        BinaryPrimitives.WriteUInt16LittleEndian(packet[(8 + token.Length)..], checked((ushort)noise.Length));
        noise.CopyTo(packet[(10 + token.Length)..]);
        Mac1.Compute(mac1Key, packet[..^MacSize], packet[^MacSize..]);
        return length;
    }

    public static int WriteResponse(Span<byte> destination, byte pattern, uint responder, uint initiator, ReadOnlySpan<byte> noise)
    {
        Span<byte> packet = destination[..(14 + noise.Length)];
        packet[0] = (byte)DatagramPacketType.Response;
        packet[1] = Version;
        packet[2] = pattern;
        packet[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(packet[4..], responder);
        BinaryPrimitives.WriteUInt32LittleEndian(packet[8..], initiator);
        BinaryPrimitives.WriteUInt16LittleEndian(packet[12..], checked((ushort)noise.Length));
        noise.CopyTo(packet[14..]);
        return packet.Length;
    }

    public static int WriteFinish(Span<byte> destination, uint responder, ReadOnlySpan<byte> noise)
    {
        Span<byte> packet = destination[..(10 + noise.Length)];
        packet[0] = (byte)DatagramPacketType.Finish;
        packet[1] = Version;
        packet[2] = packet[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(packet[4..], responder);
        BinaryPrimitives.WriteUInt16LittleEndian(packet[8..], checked((ushort)noise.Length));
        noise.CopyTo(packet[10..]);
        return packet.Length;
    }

    public static int WriteCookieReply(Span<byte> destination, uint initiator, ReadOnlySpan<byte> echoedMac1, ReadOnlySpan<byte> token)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(token.Length, MaxTokenSize);
        Span<byte> packet = destination[..(24 + token.Length)];
        packet[0] = (byte)DatagramPacketType.CookieReply;
        packet[1] = Version;
        packet[2] = 0;
        packet[3] = (byte)token.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(packet[4..], initiator);
        echoedMac1[..MacSize].CopyTo(packet[8..]);
        token.CopyTo(packet[24..]);
        return packet.Length;
    }

    /// <summary>Writes a Data packet's 16-byte header (the AEAD's associated data) and returns it.</summary>
    public static Span<byte> WriteDataHeader(Span<byte> destination, uint receiver, ulong counter)
    {
        Span<byte> header = destination[..DataHeaderSize];
        header[0] = (byte)DatagramPacketType.Data;
        header[1] = Version;
        header[2] = header[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], receiver);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], counter);
        return header;
    }
}
