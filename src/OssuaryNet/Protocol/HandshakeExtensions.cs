using System.Text;

namespace OssuaryNet.Protocol;

/// <summary>
/// The extensions carried in encrypted handshake payloads: a sequence of (varint type, varint length, value).
/// Odd types are critical: a receiver that does not know one fails with <see cref="OssuaryErrorCode.UnsupportedExtension"/>;
/// unknown even types are ignored. A type may appear once.
/// </summary>
internal sealed class HandshakeExtensions
{
    public const ulong EarlyDataType = 0x01;
    public const ulong MaxRecordPayloadType = 0x02;
    public const ulong ApplicationProtocolsType = 0x04;
    public const ulong SelectedApplicationProtocolType = 0x06;

    /// <summary>The largest record payload the sender accepts.</summary>
    public int? MaxRecordPayload { get; set; }

    /// <summary>Application protocols the sender offers, most preferred first.</summary>
    public List<string>? ApplicationProtocols { get; set; }

    /// <summary>The application protocol the sender selected from the peer's offer.</summary>
    public string? SelectedApplicationProtocol { get; set; }

    /// <summary>Early data (IK first message only; replayable).</summary>
    public byte[]? EarlyData { get; set; }

    public byte[] Encode()
    {
        var output = new List<byte>();
        if (EarlyData is not null)
        {
            Append(output, EarlyDataType, EarlyData);
        }
        if (MaxRecordPayload is int max)
        {
            Span<byte> value = stackalloc byte[8];
            Append(output, MaxRecordPayloadType, value[..VarInt.Write((ulong)max, value)]);
        }
        if (ApplicationProtocols is { Count: > 0 })
        {
            var list = new List<byte>();
            foreach (string protocol in ApplicationProtocols)
            {
                AppendVarInt(list, (ulong)Encoding.UTF8.GetByteCount(protocol));
                list.AddRange(Encoding.UTF8.GetBytes(protocol));
            }
            Append(output, ApplicationProtocolsType, list.ToArray());
        }
        if (SelectedApplicationProtocol is not null)
        {
            Append(output, SelectedApplicationProtocolType, Encoding.UTF8.GetBytes(SelectedApplicationProtocol));
        }
        return output.ToArray();
    }

    public static HandshakeExtensions Decode(ReadOnlySpan<byte> payload)
    {
        var result = new HandshakeExtensions();
        var seen = new HashSet<ulong>();
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
            if (!seen.Add(type))
            {
                throw Malformed($"extension {type} appears twice");
            }
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

    private static void Append(List<byte> output, ulong type, ReadOnlySpan<byte> value)
    {
        AppendVarInt(output, type);
        AppendVarInt(output, (ulong)value.Length);
        output.AddRange(value);
    }

    private static void AppendVarInt(List<byte> output, ulong value)
    {
        Span<byte> buffer = stackalloc byte[8];
        output.AddRange(buffer[..VarInt.Write(value, buffer)]);
    }

    private static OssuaryException Malformed(string what) =>
        new(OssuaryErrorCode.MalformedHandshake, $"Malformed handshake extensions: {what}.");
}
