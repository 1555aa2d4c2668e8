using System.Buffers.Binary;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Telemetry;

namespace OssuaryNet.Records;

/// <summary>
/// The sending half of an established connection: the send key and its counters, key updates, padding, the local
/// close, and the output queue (docs/PROTOCOL.md section 5).
/// <code>
///   frame = uint16 length || AEAD(k, n, ad = empty, inner)
///   inner = content || type (1 byte, non-zero) || zero padding
/// </code>
/// </summary>
/// <remarks>
/// Invariant: one thread at a time calls into a sender (in <see cref="OssuaryStream"/> the holder of the write gate);
/// it shares nothing with its <see cref="RecordReceiver"/> but the queue of owed pongs, so sealing and opening
/// run on two cores at once with no lock between them.
/// </remarks>
internal sealed class RecordSender
{
    private readonly CipherState _key;
    private readonly OutputQueue _output;
    private readonly RecordReceiver _owesPongs;
    private readonly ConnectionSettings _settings;
    private long _bytesOnKey;
    private volatile bool _localClosed;

    public RecordSender(CipherState key, OutputQueue output, RecordReceiver owesPongs, ConnectionSettings settings, int peerMaxPayload)
    {
        _key = key;
        _output = output;
        _owesPongs = owesPongs;
        _settings = settings;
        MaxPayload = Math.Min(peerMaxPayload, WireFormat.MaxRecordPayload);
    }

    /// <summary>The largest payload one record carries: the peer's announced limit.</summary>
    public int MaxPayload { get; }

    public long RecordsOnKey { get; private set; }

    public long KeyUpdates { get; private set; }

    /// <summary>True once the close record is queued: nothing may follow it.</summary>
    public bool IsLocalClosed => _localClosed;

    /// <summary>Committed frames waiting, or pongs owed.</summary>
    public bool HasPendingOutput => _output.Count > 0 || _owesPongs.OwedPongs > 0;

    /// <summary>Seals the pongs the receiver owes into the output queue (in front of any data sealed after it).</summary>
    public void QueueOwedPongs()
    {
        Span<byte> data = stackalloc byte[RecordReceiver.MaxPingData];
        while (_owesPongs.TryTakeOwedPong(data, out int length))
        {
            if (!_localClosed)
            {
                QueueRecord(RecordType.Pong, data[..length]);
            }
        }
    }

    public void QueueClose()
    {
        QueueRecord(RecordType.Close, default);
        _localClosed = true;
    }

    public void QueuePing(ReadOnlySpan<byte> data) => QueueRecord(RecordType.Ping, data);

    public void QueueKeyUpdate()
    {
        QueueRecord(RecordType.KeyUpdate, default);
        Rekey();
    }

    /// <summary>Seals <paramref name="source"/> into whole records in <paramref name="destination"/>, as many as fit.</summary>
    /// <returns><see cref="OssuaryStatus.Done"/>, or <see cref="OssuaryStatus.DestinationTooSmall"/> with the size the next record needs.</returns>
    public OssuaryStatus SealData(ReadOnlySpan<byte> source, Span<byte> destination, ref int consumed, ref int written, out int requiredSize)
    {
        requiredSize = 0;
        while (consumed < source.Length)
        {
            if (RecordsOnKey >= _settings.KeyUpdateAfterRecords || _bytesOnKey >= _settings.KeyUpdateAfterBytes)
            {
                int updateSize = SealedFrameSize(0);
                if (destination.Length - written < updateSize)
                {
                    requiredSize = updateSize;
                    return OssuaryStatus.DestinationTooSmall;
                }
                written += SealRecord(RecordType.KeyUpdate, default, destination[written..]);
                Rekey();
            }
            int chunk = Math.Min(source.Length - consumed, Math.Min(MaxPayload, LargestPayloadFitting(destination.Length - written)));
            if (chunk <= 0)
            {
                requiredSize = SealedFrameSize(Math.Min(source.Length - consumed, MaxPayload));
                return OssuaryStatus.DestinationTooSmall;
            }
            written += SealRecord(RecordType.Data, source.Slice(consumed, chunk), destination[written..]);
            consumed += chunk;
        }
        return OssuaryStatus.Done;
    }

    /// <summary>A sealed record's size on the wire (prefix included) for <paramref name="payloadLength"/> bytes of content.</summary>
    public int SealedFrameSize(int payloadLength) => WireFormat.LengthPrefixSize + InnerLength(payloadLength) + WireFormat.TagSize;

    /// <summary>Inner plaintext length for a payload: payload + type byte, padded up to the block size, capped at the peer's limit.</summary>
    private int InnerLength(int payloadLength)
    {
        int inner = payloadLength + 1;
        if (_settings.PaddingBlockSize > 0)
        {
            inner = Math.Min((inner + _settings.PaddingBlockSize - 1) / _settings.PaddingBlockSize * _settings.PaddingBlockSize, MaxPayload + 1);
        }
        return inner;
    }

    private int LargestPayloadFitting(int space)
    {
        int inner = Math.Min(space - WireFormat.LengthPrefixSize - WireFormat.TagSize, MaxPayload + 1);
        if (_settings.PaddingBlockSize > 0 && inner < MaxPayload + 1)
        {
            inner = inner / _settings.PaddingBlockSize * _settings.PaddingBlockSize;
        }
        return inner - 1;
    }

    /// <summary>Seals one record into <paramref name="destination"/>: the content is copied in, then encrypted in place.</summary>
    private int SealRecord(RecordType type, ReadOnlySpan<byte> content, Span<byte> destination)
    {
        int inner = InnerLength(content.Length);
        int body = inner + WireFormat.TagSize;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)body);
        Span<byte> record = destination.Slice(WireFormat.LengthPrefixSize, body);
        content.CopyTo(record);
        record[content.Length] = (byte)type;
        record[(content.Length + 1)..inner].Clear();
        try
        {
            _key.EncryptWithAd(default, record[..inner], record);
        }
        catch
        {
            // The content was copied in to be encrypted in place: never leave it in clear where output goes.
            destination[..(WireFormat.LengthPrefixSize + body)].Clear();
            throw;
        }
        RecordsOnKey++;
        _bytesOnKey += content.Length;
        OssuaryTelemetry.RecordSent(WireFormat.LengthPrefixSize + body);
        return WireFormat.LengthPrefixSize + body;
    }

    /// <summary>Seals a control record into the output queue; nothing is committed unless sealing succeeded.</summary>
    private void QueueRecord(RecordType type, ReadOnlySpan<byte> content)
    {
        SealRecord(type, content, _output.BeginFrame(SealedFrameSize(content.Length) - WireFormat.LengthPrefixSize));
        _output.CommitFrame();
    }

    private void Rekey()
    {
        _key.Rekey();
        RecordsOnKey = 0;
        _bytesOnKey = 0;
        KeyUpdates++;
        OssuaryTelemetry.KeyUpdated(sent: true);
    }
}
