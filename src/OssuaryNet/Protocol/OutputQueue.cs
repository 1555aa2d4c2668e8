using System.Buffers;
using System.Buffers.Binary;

namespace OssuaryNet.Protocol;

/// <summary>
/// Frames (handshake messages, alerts, control records) waiting to be drained by the caller, in order.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Building a frame is a transaction: <see cref="BeginFrame"/> hands out space that <see cref="Drain"/> never
/// sees until <see cref="CommitFrame"/>. A frame whose building threw (a low-order key during a handshake message,
/// nonce exhaustion while sealing) is never emitted, and its bytes are wiped by the next
/// <see cref="BeginFrame"/> or <see cref="DiscardUnsent"/>.</item>
/// <item>Every committed frame starts with its u16 body length, so the queue always knows where the frame that is
/// partly drained ends (<c>_nextFrameStart</c>): <see cref="DiscardUnsent"/> can drop every frame not yet started
/// while keeping the framing of the byte stream intact.</item>
/// <item>The buffer is rented only while something is queued and is cleared before it goes back to the pool.</item>
/// </list>
/// </remarks>
internal sealed class OutputQueue : IDisposable
{
    private byte[]? _buffer;
    private int _start;          // first byte not yet drained
    private int _end;            // end of the committed frames
    private int _reservedEnd;    // end of the frame being built; equals _end when none is
    private int _nextFrameStart; // first committed frame not yet started; [_start, _nextFrameStart) is the rest of one partly drained

    /// <summary>Committed bytes not yet drained.</summary>
    public int Count => _end - _start;

    /// <summary>True while the rest of a frame already partly drained waits (it survives <see cref="DiscardUnsent"/>).</summary>
    public bool HasPartlyDrainedFrame => _nextFrameStart > _start;

    /// <summary>
    /// Starts a frame of <paramref name="bodyLength"/> bytes: writes its length prefix and returns the whole frame
    /// (prefix included) for the caller to fill. Nothing of it is drained before <see cref="CommitFrame"/>.
    /// </summary>
    public Span<byte> BeginFrame(int bodyLength)
    {
        if (bodyLength is <= 0 or > WireFormat.MaxFrameBody)
        {
            throw new ArgumentOutOfRangeException(nameof(bodyLength));
        }
        DropReservation();
        int size = WireFormat.LengthPrefixSize + bodyLength;
        if (_buffer is null || _buffer.Length - _end < size)
        {
            int queued = Count;
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(2 * (queued + size), 256));
            int partial = _nextFrameStart - _start;
            if (_buffer is not null)
            {
                _buffer.AsSpan(_start, queued).CopyTo(larger);
                Return();
            }
            _buffer = larger;
            _start = 0;
            _end = _reservedEnd = queued;
            _nextFrameStart = partial;
        }
        Span<byte> frame = _buffer.AsSpan(_end, size);
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)bodyLength);
        _reservedEnd = _end + size;
        return frame;
    }

    /// <summary>Makes the frame from the last <see cref="BeginFrame"/> part of the output.</summary>
    public void CommitFrame()
    {
        if (_reservedEnd == _end)
        {
            throw new InvalidOperationException("No frame is being built.");
        }
        _end = _reservedEnd;
    }

    /// <summary>Copies as much committed output as fits into <paramref name="destination"/>; returns the count.</summary>
    public int Drain(Span<byte> destination)
    {
        if (_buffer is null)
        {
            return 0;
        }
        int count = Math.Min(Count, destination.Length);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        while (_nextFrameStart < _start)
        {
            _nextFrameStart += WireFormat.LengthPrefixSize + BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_nextFrameStart));
        }
        if (_start == _end && _reservedEnd == _end)
        {
            Return();
        }
        return count;
    }

    /// <summary>
    /// Drops (and wipes) every frame that has not started to go out, and any frame being built. The rest of a frame
    /// already partly drained stays, so that what the peer receives remains well framed.
    /// </summary>
    public void DiscardUnsent()
    {
        if (_buffer is null)
        {
            return;
        }
        int keep = Math.Max(_start, _nextFrameStart);
        _buffer.AsSpan(keep, _reservedEnd - keep).Clear();
        _end = _reservedEnd = keep;
        if (Count == 0)
        {
            Return();
        }
    }

    public void Dispose() => Return();

    private void DropReservation()
    {
        if (_buffer is not null && _reservedEnd > _end)
        {
            _buffer.AsSpan(_end, _reservedEnd - _end).Clear();
        }
        _reservedEnd = _end;
    }

    private void Return()
    {
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _reservedEnd).Clear();
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        _start = _end = _reservedEnd = _nextFrameStart = 0;
    }
}
