using System.Security.Cryptography;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Telemetry;

namespace OssuaryNet.Records;

/// <summary>
/// The receiving half of an established connection: the receive key, frame reassembly, the single input buffer and
/// the plaintext waiting in it, the peer's close and key updates (docs/PROTOCOL.md section 5). The record type is
/// the last non-zero byte of the decrypted inner plaintext, as in TLS 1.3.
/// </summary>
/// <remarks>
/// Invariants: one thread at a time calls into a receiver (in <see cref="OssuaryStream"/> the reader), except
/// <see cref="TryTakeOwedPong"/>, the sender's, which shares only the pong queue under a lock; nothing is
/// released and no state moves unless a record's tag verifies; plaintext is decrypted straight into the caller's
/// span when it fits, otherwise in place in the reader's buffer, and the buffer is released once delivered.
/// </remarks>
internal sealed class RecordReceiver
{
    public const int MaxPingData = 64;

    private readonly CipherState _key;
    private readonly FrameReader _reader;
    private PongQueue _pongs; // guarded by lock (this): the sender takes pongs on its own thread
    private readonly int _maxFrameBody;
    private readonly bool _peerMayStillAlert;
    private int _plaintextStart, _plaintextEnd;
    private bool _receivedRecord;

    // peerMayStillAlert: this side finished its handshake before the peer verified it (XX client, IK server), so the
    // peer's clear alert may arrive where its first record would (docs/PROTOCOL.md 4.4).
    public RecordReceiver(CipherState key, FrameReader reader, int localMaxPayload, bool peerMayStillAlert)
    {
        _key = key;
        _reader = reader;
        _maxFrameBody = localMaxPayload + 1 + WireFormat.TagSize;
        _peerMayStillAlert = peerMayStillAlert;
    }

    /// <summary>True once the peer's authenticated close has arrived.</summary>
    public bool IsRemoteClosed { get; private set; }

    public long KeyUpdates { get; private set; }

    public long PongsReceived { get; private set; }

    /// <summary>Pongs owed and not yet taken by the sender (a hint when read from the sender's thread).</summary>
    public int OwedPongs => _pongs.Count;

    /// <summary>
    /// The sender's one way into the receiver: takes the oldest owed pong's data (at most 64 bytes). The lock is on
    /// this receiver, which never leaves its connection; it guards a few bytes, never a cipher or I/O.
    /// </summary>
    public bool TryTakeOwedPong(Span<byte> destination, out int length)
    {
        lock (this)
        {
            return _pongs.TryDequeue(destination, out length);
        }
    }

    /// <summary>True while the reader holds part of a frame (or plaintext not yet delivered).</summary>
    public bool HoldsPartialInput => !_reader.IsEmpty;

    /// <summary>
    /// Opens records from <paramref name="source"/> into <paramref name="destination"/>. Throws
    /// <see cref="OssuaryException"/> for anything the peer got wrong; <paramref name="consumed"/> and
    /// <paramref name="written"/> are current when it does.
    /// </summary>
    public OssuaryStatus Receive(ReadOnlySpan<byte> source, Span<byte> destination, ref int consumed, ref int written, out int requiredSize)
    {
        requiredSize = 0;
        while (true)
        {
            written += DeliverWaitingPlaintext(destination[written..]);
            if (_plaintextEnd > _plaintextStart)
            {
                requiredSize = _plaintextEnd - _plaintextStart;
                return OssuaryStatus.DestinationTooSmall;
            }
            if (IsRemoteClosed)
            {
                return OssuaryStatus.Closed;
            }
            if (_pongs.Count >= PongQueue.Capacity)
            {
                return OssuaryStatus.OutputPending;
            }
            ReadOnlySpan<byte> remaining = source[consumed..];
            if (remaining.IsEmpty)
            {
                return OssuaryStatus.NeedMoreInput;
            }
            if (_reader.TryPeekWholeFrame(remaining, _maxFrameBody, out int bodyLength))
            {
                if (written > 0 && written == destination.Length)
                {
                    // Full: stop rather than decrypt into the internal buffer; the next record carries at most this much.
                    requiredSize = Math.Max(bodyLength - WireFormat.TagSize - 1, 1);
                    return OssuaryStatus.DestinationTooSmall;
                }
                consumed += WireFormat.LengthPrefixSize + bodyLength;
                OpenRecord(remaining.Slice(WireFormat.LengthPrefixSize, bodyLength), default, destination, ref written);
                continue;
            }
            if (written > 0 && written == destination.Length)
            {
                requiredSize = _maxFrameBody - WireFormat.TagSize - 1;
                return OssuaryStatus.DestinationTooSmall;
            }
            consumed += _reader.Append(remaining, _maxFrameBody);
            if (!_reader.IsComplete)
            {
                return OssuaryStatus.NeedMoreInput;
            }
            Span<byte> body = _reader.Body;
            OpenRecord(body, body, destination, ref written);
        }
    }

    /// <summary>Forgets held input and waiting plaintext (wiping it): the connection failed or is disposed.</summary>
    public void Discard()
    {
        _plaintextStart = _plaintextEnd = 0;
        _reader.Reset();
    }

    private int DeliverWaitingPlaintext(Span<byte> destination)
    {
        int count = Math.Min(_plaintextEnd - _plaintextStart, destination.Length);
        if (count == 0)
        {
            return 0;
        }
        _reader.Body.Slice(_plaintextStart, count).CopyTo(destination);
        _plaintextStart += count;
        if (_plaintextStart == _plaintextEnd)
        {
            _plaintextStart = _plaintextEnd = 0;
            _reader.Reset();
        }
        return count;
    }

    /// <summary>
    /// Opens one record: straight into the caller's destination when its plaintext fits, otherwise in place in the
    /// reader's buffer, delivered from there. Nothing is released unless the tag verifies.
    /// </summary>
    private void OpenRecord(ReadOnlySpan<byte> body, Span<byte> writableBody, Span<byte> destination, ref int written)
    {
        if (body.Length == 2 && body[0] == WireFormat.AlertKind && _peerMayStillAlert && !_receivedRecord)
        {
            // Two bytes can never be a record, so this is unambiguous.
            throw Alerts.Received(body);
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
        if (!_key.TryDecryptWithAd(default, body, inner, out _))
        {
            CryptographicOperations.ZeroMemory(inner);
            throw new OssuaryException(OssuaryErrorCode.AuthenticationFailed,
                "A record failed authentication: it was tampered with, replayed, reordered, truncated or belongs to another session.");
        }

        _receivedRecord = true;
        OssuaryTelemetry.RecordReceived(WireFormat.LengthPrefixSize + body.Length);
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
                _key.Rekey();
                KeyUpdates++;
                OssuaryTelemetry.KeyUpdated(sent: false);
                break;
            case RecordType.Ping when content.Length <= MaxPingData:
                // Checked before each frame: a full queue stops input, so this cannot fail.
                lock (this)
                {
                    _pongs.TryEnqueue(content);
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
