using System.Buffers;
using System.Buffers.Binary;

namespace OssuaryNet.Protocol;

/// <summary>
/// Reassembles one length-prefixed frame from input that arrives in arbitrary pieces. The length is checked against
/// the current limit as soon as its two bytes are known, so the buffer rented for the body is never larger than
/// the limit, whatever the peer claims. The buffer is also where a record is decrypted in place when the caller's
/// destination is too small, and where its plaintext waits until it is delivered.
/// </summary>
internal sealed class FrameReader : IDisposable
{
    private byte[]? _body;
    private int _prefix;
    private int _prefixCount;
    private int _bodyLength;
    private int _bodyCount;

    /// <summary>True when no byte of a frame is held.</summary>
    public bool IsEmpty => _prefixCount == 0 && _body is null;

    /// <summary>True when a whole frame is held.</summary>
    public bool IsComplete => _body is not null && _bodyCount == _bodyLength;

    /// <summary>The complete frame body (writable: records are decrypted in place here).</summary>
    public Span<byte> Body => _body.AsSpan(0, _bodyLength);

    /// <summary>
    /// If <paramref name="source"/> begins with a whole frame and nothing is buffered, returns its body length
    /// without copying (the fast path). Throws for a length that is zero or over <paramref name="maxBody"/>.
    /// </summary>
    public bool TryPeekWholeFrame(ReadOnlySpan<byte> source, int maxBody, out int bodyLength)
    {
        bodyLength = 0;
        if (!IsEmpty || source.Length < WireFormat.LengthPrefixSize)
        {
            return false;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(source);
        CheckLength(length, maxBody);
        if (source.Length - WireFormat.LengthPrefixSize < length)
        {
            return false;
        }
        bodyLength = length;
        return true;
    }

    /// <summary>
    /// Copies the first bytes of the frame being assembled, its length prefix included, followed by those of
    /// <paramref name="source"/>, into <paramref name="destination"/> (as many as fit); returns how many. Nothing is consumed.
    /// </summary>
    public int PeekStart(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int count = 0;
        for (int i = _prefixCount - 1; i >= 0 && count < destination.Length; i--)
        {
            destination[count++] = (byte)(_prefix >> (8 * i));
        }
        if (_body is not null)
        {
            int held = Math.Min(_bodyCount, destination.Length - count);
            _body.AsSpan(0, held).CopyTo(destination[count..]);
            count += held;
        }
        int more = Math.Min(source.Length, destination.Length - count);
        source[..more].CopyTo(destination[count..]);
        return count + more;
    }

    /// <summary>Takes bytes towards the current frame; returns how many were used (never more than the frame needs).</summary>
    public int Append(ReadOnlySpan<byte> source, int maxBody)
    {
        int used = 0;
        while (_prefixCount < WireFormat.LengthPrefixSize && used < source.Length)
        {
            _prefix = (_prefix << 8) | source[used++];
            _prefixCount++;
        }
        if (_prefixCount < WireFormat.LengthPrefixSize)
        {
            return used;
        }
        if (_body is null)
        {
            _bodyLength = _prefix;
            CheckLength(_bodyLength, maxBody);
            _body = ArrayPool<byte>.Shared.Rent(_bodyLength);
            _bodyCount = 0;
        }
        int take = Math.Min(_bodyLength - _bodyCount, source.Length - used);
        source.Slice(used, take).CopyTo(_body.AsSpan(_bodyCount));
        _bodyCount += take;
        return used + take;
    }

    /// <summary>Loads a whole frame body that arrived in one piece but must be decrypted in place.</summary>
    public Span<byte> Load(ReadOnlySpan<byte> body)
    {
        Reset();
        _body = ArrayPool<byte>.Shared.Rent(body.Length);
        body.CopyTo(_body);
        _prefixCount = WireFormat.LengthPrefixSize;
        _bodyLength = _bodyCount = body.Length;
        return Body;
    }

    /// <summary>Forgets the frame, wiping and returning the buffer.</summary>
    public void Reset()
    {
        if (_body is not null)
        {
            _body.AsSpan(0, _bodyLength).Clear();
            ArrayPool<byte>.Shared.Return(_body);
            _body = null;
        }
        _prefixCount = _bodyLength = _bodyCount = _prefix = 0;
    }

    public void Dispose() => Reset();

    private static void CheckLength(int length, int maxBody)
    {
        if (length == 0)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedFrame, "A frame has length zero.");
        }
        if (length > maxBody)
        {
            throw new OssuaryException(OssuaryErrorCode.RecordTooLarge, $"A frame of {length} bytes exceeds the limit of {maxBody}.");
        }
    }
}
