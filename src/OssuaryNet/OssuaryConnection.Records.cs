using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Protocol;

namespace OssuaryNet;

// The transport half of the connection: records (docs/PROTOCOL.md section 5).
//   frame     = uint16 length || AEAD(k, n, ad = empty, inner)
//   inner     = content || type (1 byte, non-zero) || zero padding
// The receiver finds the type as the last non-zero byte of the decrypted inner plaintext (as TLS 1.3 does).
public sealed partial class OssuaryConnection
{
    private const int MaxPingData = 64;
    private const int MaxQueuedControlBytes = 4096;

    private int _sendMaxPayload = WireFormat.DefaultRecordPayload;
    private long _recordsOnSendKey;
    private long _bytesOnSendKey;
    private bool _receivedRecord;

    /// <summary>Records sealed under the current sending key (reset by each key update).</summary>
    public long RecordsOnCurrentSendKey => _recordsOnSendKey;

    /// <summary>Key updates this side has made to its sending direction.</summary>
    public long SendKeyUpdates { get; private set; }

    /// <summary>Key updates the peer has made to its sending direction.</summary>
    public long ReceiveKeyUpdates { get; private set; }

    private OssuaryStatus SealData(ReadOnlySpan<byte> source, Span<byte> destination, ref int consumed, ref int written)
    {
        while (consumed < source.Length)
        {
            if (_recordsOnSendKey >= _options.KeyUpdateAfterRecords || _bytesOnSendKey >= _options.KeyUpdateAfterBytes)
            {
                int updateSize = SealedFrameSize(0);
                if (destination.Length - written < updateSize)
                {
                    RequiredDestinationSize = updateSize;
                    return OssuaryStatus.DestinationTooSmall;
                }
                written += SealRecord(RecordType.KeyUpdate, default, destination[written..]);
                RekeySend();
            }
            int chunk = Math.Min(source.Length - consumed, Math.Min(_sendMaxPayload, LargestPayloadFitting(destination.Length - written)));
            if (chunk <= 0)
            {
                RequiredDestinationSize = SealedFrameSize(Math.Min(source.Length - consumed, _sendMaxPayload));
                return OssuaryStatus.DestinationTooSmall;
            }
            written += SealRecord(RecordType.Data, source.Slice(consumed, chunk), destination[written..]);
            consumed += chunk;
        }
        return OssuaryStatus.Done;
    }

    /// <summary>Inner plaintext length for a payload: payload + type byte, padded up to the block size, capped at the peer's limit.</summary>
    private int InnerLength(int payloadLength)
    {
        int inner = payloadLength + 1;
        int block = _options.PaddingBlockSize;
        if (block > 0)
        {
            inner = Math.Min((inner + block - 1) / block * block, _sendMaxPayload + 1);
        }
        return inner;
    }

    private int SealedFrameSize(int payloadLength) => WireFormat.LengthPrefixSize + InnerLength(payloadLength) + WireFormat.TagSize;

    private int LargestPayloadFitting(int space)
    {
        int inner = Math.Min(space - WireFormat.LengthPrefixSize - WireFormat.TagSize, _sendMaxPayload + 1);
        int block = _options.PaddingBlockSize;
        if (block > 0 && inner < _sendMaxPayload + 1)
        {
            inner = inner / block * block;
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
            _transport!.Send.EncryptWithAd(default, record[..inner], record);
        }
        catch
        {
            // The content was copied in to be encrypted in place: never leave it in clear where output goes.
            destination[..(WireFormat.LengthPrefixSize + body)].Clear();
            throw;
        }
        _recordsOnSendKey++;
        _bytesOnSendKey += content.Length;
        return WireFormat.LengthPrefixSize + body;
    }

    private void QueueRecord(RecordType type, ReadOnlySpan<byte> content)
    {
        try
        {
            SealRecord(type, content, _output.BeginFrame(SealedFrameSize(content.Length) - WireFormat.LengthPrefixSize));
            _output.CommitFrame();
        }
        catch (OssuaryException e)
        {
            throw Fail(e);
        }
    }

    private void QueueKeyUpdate()
    {
        QueueRecord(RecordType.KeyUpdate, default);
        RekeySend();
    }

    private void RekeySend()
    {
        _transport!.Send.Rekey();
        _recordsOnSendKey = 0;
        _bytesOnSendKey = 0;
        SendKeyUpdates++;
    }

    /// <summary>
    /// Opens one record. The plaintext goes straight into the caller's destination when it fits; otherwise the record
    /// is decrypted in place in the reader's buffer and delivered from there. Nothing is released unless the tag verifies.
    /// </summary>
    private void OpenRecord(ReadOnlySpan<byte> body, Span<byte> writableBody, Span<byte> destination, ref int written)
    {
        if (body.Length == 2 && body[0] == WireFormat.AlertKind && MayReceiveAlertAsRecord)
        {
            // The peer failed the handshake after this side had already finished it (XX client, IK server): its
            // clear alert arrives where the first record would. Two bytes can never be a record, so this is unambiguous.
            throw AlertReceived(body);
        }
        if (body.Length <= WireFormat.TagSize)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedFrame, "A record is too short to hold a type and a tag.");
        }
        int innerLength = body.Length - WireFormat.TagSize;
        Span<byte> free = destination[written..];
        bool direct = free.Length >= innerLength;
        bool fromReader = !writableBody.IsEmpty;
        Span<byte> inner;
        if (direct)
        {
            inner = free[..innerLength];
        }
        else
        {
            if (!fromReader)
            {
                writableBody = _reader.Load(body);
                body = writableBody;
                fromReader = true;
            }
            inner = writableBody[..innerLength];
        }
        if (!_transport!.Receive.TryDecryptWithAd(default, body, inner, out _))
        {
            CryptographicOperations.ZeroMemory(inner);
            throw new OssuaryException(OssuaryErrorCode.AuthenticationFailed,
                "A record failed authentication: it was tampered with, replayed, reordered, truncated or belongs to another session.");
        }

        _receivedRecord = true;
        int typeIndex = inner.LastIndexOfAnyExcept((byte)0);
        if (typeIndex < 0)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedFrame, "A record has no type byte.");
        }
        var type = (RecordType)inner[typeIndex];
        if (type == RecordType.Data && direct)
        {
            inner[typeIndex] = 0;
            written += typeIndex;
        }
        else if (type == RecordType.Data && typeIndex > 0)
        {
            // Delivered from the reader's buffer by the next calls; the buffer is released once it is empty.
            _plaintextStart = 0;
            _plaintextEnd = typeIndex;
            return;
        }
        else if (type != RecordType.Data)
        {
            ProcessControlRecord(type, inner[..typeIndex]);
            inner.Clear();
        }
        if (fromReader)
        {
            _reader.Reset();
        }
    }

    private void ProcessControlRecord(RecordType type, ReadOnlySpan<byte> content)
    {
        switch (type)
        {
            case RecordType.Close when content.IsEmpty:
                IsRemoteClosed = true;
                break;
            case RecordType.KeyUpdate when content.IsEmpty:
                _transport!.Receive.Rekey();
                ReceiveKeyUpdates++;
                break;
            case RecordType.Ping when content.Length <= MaxPingData:
                if (!IsLocalClosed)
                {
                    QueueRecord(RecordType.Pong, content);
                    // A few queued pongs are fine (a writer busy on a full socket drains them with its next records);
                    // beyond the bound, input waits, so a ping flood cannot grow the queue without limit.
                    _inputBlockedByOutput |= _output.Count > MaxQueuedControlBytes;
                }
                break;
            case RecordType.Pong when content.Length <= MaxPingData:
                PongsReceived++;
                break;
            default:
                throw new OssuaryException(OssuaryErrorCode.UnexpectedMessage, $"Unexpected record of type {(byte)type} with {content.Length} bytes of content.");
        }
    }
}
