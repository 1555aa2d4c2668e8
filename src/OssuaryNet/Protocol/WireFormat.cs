namespace OssuaryNet.Protocol;

/// <summary>The constants of wire protocol v1 (docs/PROTOCOL.md).</summary>
internal static class WireFormat
{
    /// <summary>Every frame starts with a 2-byte big-endian body length.</summary>
    public const int LengthPrefixSize = 2;

    /// <summary>The largest frame body, and the Noise maximum message size.</summary>
    public const int MaxFrameBody = ushort.MaxValue;

    /// <summary>The protocol version this implementation speaks.</summary>
    public const byte Version = 1;

    /// <summary>Handshake frames after the first start with this kind byte when they carry a Noise message.</summary>
    public const byte HandshakeMessageKind = 0x00;

    /// <summary>Handshake frames after the first start with this kind byte when they carry a clear alert.</summary>
    public const byte AlertKind = 0x15;

    /// <summary>AEAD tag size.</summary>
    public const int TagSize = 16;

    /// <summary>The largest record payload: a frame body holds payload, the type byte and the tag.</summary>
    public const int MaxRecordPayload = MaxFrameBody - 1 - TagSize;

    /// <summary>The smallest maximum record payload a peer may announce.</summary>
    public const int MinRecordPayload = 64;

    /// <summary>The record payload assumed when a peer announces none.</summary>
    public const int DefaultRecordPayload = 16384;

    /// <summary>Bytes a record adds to its payload, before padding: length prefix, type byte, tag.</summary>
    public const int RecordOverhead = LengthPrefixSize + 1 + TagSize;

    /// <summary>The prefix of the Noise prologue; see <see cref="Prologue"/>.</summary>
    public static ReadOnlySpan<byte> PrologueLabel => "OssuaryNet wire v1\0"u8;
}
