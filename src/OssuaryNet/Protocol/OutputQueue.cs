using System.Buffers;

namespace OssuaryNet.Protocol;

/// <summary>
/// Frames (handshake messages, alerts, control records) waiting to be drained by the caller, in order. The buffer
/// is rented only while something is queued and is cleared before it goes back to the pool.
/// </summary>
internal sealed class OutputQueue : IDisposable
{
    private byte[]? _buffer;
    private int _start, _end;

    public int Count => _end - _start;

    /// <summary>Appends <paramref name="size"/> bytes to the queue and returns them for the caller to fill.</summary>
    public Span<byte> Reserve(int size)
    {
        if (_buffer is null || _buffer.Length - _end < size)
        {
            int queued = Count;
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(2 * (queued + size), 256));
            if (_buffer is not null)
            {
                _buffer.AsSpan(_start, queued).CopyTo(larger);
                Return();
            }
            _buffer = larger;
            _start = 0;
            _end = queued;
        }
        Span<byte> reserved = _buffer.AsSpan(_end, size);
        _end += size;
        return reserved;
    }

    /// <summary>Copies as much as fits into <paramref name="destination"/>; returns the count.</summary>
    public int Drain(Span<byte> destination)
    {
        if (_buffer is null)
        {
            return 0;
        }
        int count = Math.Min(Count, destination.Length);
        _buffer.AsSpan(_start, count).CopyTo(destination);
        _start += count;
        if (_start == _end)
        {
            Return();
        }
        return count;
    }

    public void Dispose() => Return();

    private void Return()
    {
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _end).Clear();
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
        _start = _end = 0;
    }
}
