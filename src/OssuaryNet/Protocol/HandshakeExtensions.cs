using System.Text;

namespace OssuaryNet.Protocol;

/// <summary>
/// The extensions carried in encrypted handshake payloads: a sequence of (varint type, varint length, value).
/// Odd types are critical: a receiver that does not know one fails with <see cref="OssuaryErrorCode.UnsupportedExtension"/>;
/// unknown even types are ignored. A type may appear once. A value type, so that writing and reading the
/// extensions of a handshake allocates nothing beyond the values that the connection keeps.
/// </summary>
internal struct HandshakeExtensions
{
    public const ulong EarlyDataType = 0x01;
    public const ulong MaxRecordPayloadType = 0x02;
    public const ulong ApplicationProtocolsType = 0x04;
    public const ulong SelectedApplicationProtocolType = 0x06;

    /// <summary>The known extensions these values hold (after <see cref="Decode"/>: the ones the peer sent).</summary>
    public readonly ExtensionSet Present =>
        (EarlyData is null ? ExtensionSet.None : ExtensionSet.EarlyData)
        | (MaxRecordPayload is null ? ExtensionSet.None : ExtensionSet.MaxRecordPayload)
        | (ApplicationProtocols is null ? ExtensionSet.None : ExtensionSet.ApplicationProtocols)
        | (SelectedApplicationProtocol is null ? ExtensionSet.None : ExtensionSet.SelectedApplicationProtocol);

    /// <summary>The largest record payload the sender accepts.</summary>
    public int? MaxRecordPayload { get; set; }

    /// <summary>Application protocols the sender offers, most preferred first.</summary>
    public IList<string>? ApplicationProtocols { get; set; }

    /// <summary>The application protocol the sender selected from the peer's offer.</summary>
    public string? SelectedApplicationProtocol { get; set; }

    /// <summary>Early data (IK first message only; replayable).</summary>
    public ReadOnlyMemory<byte>? EarlyData { get; set; }

    /// <summary>The size of the encoded extensions.</summary>
    public readonly int EncodedLength
    {
        get
        {
            int maxLength = MaxRecordPayload is int max ? VarInt.SizeOf((ulong)max) : 0;
            int selectedLength = SelectedApplicationProtocol is null ? 0 : Encoding.UTF8.GetByteCount(SelectedApplicationProtocol);
            return (EarlyData is { } early ? Size(EarlyDataType, early.Length) : 0)
                + (MaxRecordPayload is null ? 0 : Size(MaxRecordPayloadType, maxLength))
                + (ApplicationProtocols is { Count: > 0 } ? Size(ApplicationProtocolsType, ProtocolListLength()) : 0)
                + (SelectedApplicationProtocol is null ? 0 : Size(SelectedApplicationProtocolType, selectedLength));
        }
    }

    /// <summary>Writes the extensions in ascending type order into exactly <see cref="EncodedLength"/> bytes of <paramref name="output"/>.</summary>
    public readonly void Encode(Span<byte> output)
    {
        Span<byte> number = stackalloc byte[8];
        int maxLength = MaxRecordPayload is int max ? VarInt.Write((ulong)max, number) : 0;
        int selectedLength = SelectedApplicationProtocol is null ? 0 : Encoding.UTF8.GetByteCount(SelectedApplicationProtocol);
        Span<byte> rest = output;
        if (EarlyData is { } early)
        {
            rest = rest[WriteHeader(EarlyDataType, early.Length, rest)..];
            early.Span.CopyTo(rest);
            rest = rest[early.Length..];
        }
        if (MaxRecordPayload is not null)
        {
            rest = rest[WriteHeader(MaxRecordPayloadType, maxLength, rest)..];
            number[..maxLength].CopyTo(rest);
            rest = rest[maxLength..];
        }
        if (ApplicationProtocols is { Count: > 0 })
        {
            rest = rest[WriteHeader(ApplicationProtocolsType, ProtocolListLength(), rest)..];
            for (int i = 0; i < ApplicationProtocols.Count; i++)
            {
                string protocol = ApplicationProtocols[i];
                rest = rest[VarInt.Write((ulong)Encoding.UTF8.GetByteCount(protocol), rest)..];
                rest = rest[Encoding.UTF8.GetBytes(protocol, rest)..];
            }
        }
        if (SelectedApplicationProtocol is not null)
        {
            rest = rest[WriteHeader(SelectedApplicationProtocolType, selectedLength, rest)..];
            Encoding.UTF8.GetBytes(SelectedApplicationProtocol, rest);
        }
    }

    private readonly int ProtocolListLength()
    {
        int length = 0;
        for (int i = 0; ApplicationProtocols is not null && i < ApplicationProtocols.Count; i++)
        {
            int nameLength = Encoding.UTF8.GetByteCount(ApplicationProtocols[i]);
            length += VarInt.SizeOf((ulong)nameLength) + nameLength;
        }
        return length;
    }

    /// <summary>The most extensions a payload may carry; more is <see cref="OssuaryErrorCode.MalformedHandshake"/>.</summary>
    private const int MaxExtensions = 32;

    public static HandshakeExtensions Decode(ReadOnlySpan<byte> payload)
    {
        var result = default(HandshakeExtensions);
        Span<ulong> seen = stackalloc ulong[MaxExtensions];
        int count = 0;
        while (!payload.IsEmpty)
        {
            if (!VarInt.TryRead(payload, out ulong type, out int typeLength)
                || !VarInt.TryRead(payload[typeLength..], out ulong length, out int lengthLength)
                || length > (ulong)(payload.Length - typeLength - lengthLength))
            {
                throw Malformed("an extension is cut short");
            }
            ReadOnlySpan<byte> value = payload.Slice(typeLength + lengthLength, (int)length);
            payload = payload[(typeLength + lengthLength + (int)length)..];
            if (seen[..count].Contains(type))
            {
                throw Malformed($"extension {type} appears twice");
            }
            if (count == MaxExtensions)
            {
                throw Malformed($"more than {MaxExtensions} extensions");
            }
            seen[count++] = type;
            switch (type)
            {
                case EarlyDataType:
                    result.EarlyData = value.ToArray();
                    break;
                case MaxRecordPayloadType:
                    if (!VarInt.TryRead(value, out ulong max, out int used) || used != value.Length
                        || max < WireFormat.MinRecordPayload || max > WireFormat.MaxRecordPayload)
                    {
                        throw Malformed("invalid maximum record payload");
                    }
                    result.MaxRecordPayload = (int)max;
                    break;
                case ApplicationProtocolsType:
                    result.ApplicationProtocols = DecodeProtocolList(value);
                    break;
                case SelectedApplicationProtocolType:
                    result.SelectedApplicationProtocol = DecodeName(value);
                    break;
                default:
                    if ((type & 1) == 1)
                    {
                        throw new OssuaryException(OssuaryErrorCode.UnsupportedExtension, $"The peer sent critical extension {type}, which this implementation does not support.");
                    }
                    break;
            }
        }
        return result;
    }

    private static int Size(ulong type, int length) => VarInt.SizeOf(type) + VarInt.SizeOf((ulong)length) + length;

    private static int WriteHeader(ulong type, int length, Span<byte> destination)
    {
        int used = VarInt.Write(type, destination);
        return used + VarInt.Write((ulong)length, destination[used..]);
    }

    private static List<string> DecodeProtocolList(ReadOnlySpan<byte> value)
    {
        var protocols = new List<string>();
        while (!value.IsEmpty)
        {
            if (!VarInt.TryRead(value, out ulong length, out int used) || length == 0 || length > (ulong)(value.Length - used))
            {
                throw Malformed("invalid application protocol list");
            }
            protocols.Add(DecodeName(value.Slice(used, (int)length)));
            value = value[(used + (int)length)..];
        }
        return protocols;
    }

    private static string DecodeName(ReadOnlySpan<byte> value)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed("an application protocol name is not UTF-8");
        }
    }

    private static OssuaryException Malformed(string what) =>
        new(OssuaryErrorCode.MalformedHandshake, $"Malformed handshake extensions: {what}.");
}
