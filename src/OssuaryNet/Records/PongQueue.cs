namespace OssuaryNet.Records;

/// <summary>
/// The pongs a receiver owes, in the order their pings arrived: the one thing the two halves of an established
/// connection share. A value held inside its <see cref="RecordReceiver"/> (no object of its own), which guards it.
/// </summary>
/// <remarks>
/// Invariants: at most <see cref="Capacity"/> pongs of at most <see cref="RecordReceiver.MaxPingData"/> bytes wait; once
/// it is full the receiver consumes no more input until the sender has taken them, so a ping flood cannot grow memory.
/// Its storage is allocated at the first ping: most connections never receive one.
/// </remarks>
internal struct PongQueue
{
    public const int Capacity = 32;

    private byte[]? _data;
    private int[]? _lengths;
    private int _first, _count;

    /// <summary>Pongs waiting; safe to read without the owner's lock as a hint.</summary>
    public readonly int Count => Volatile.Read(in _count);

    public bool TryEnqueue(ReadOnlySpan<byte> data)
    {
        if (_count == Capacity)
        {
            return false;
        }
        _data ??= new byte[Capacity * RecordReceiver.MaxPingData];
        _lengths ??= new int[Capacity];
        int slot = (_first + _count) % Capacity;
        data.CopyTo(_data.AsSpan(slot * RecordReceiver.MaxPingData));
        _lengths[slot] = data.Length;
        Volatile.Write(ref _count, _count + 1);
        return true;
    }

    public bool TryDequeue(Span<byte> destination, out int length)
    {
        if (_count == 0)
        {
            length = 0;
            return false;
        }
        length = _lengths![_first];
        _data.AsSpan(_first * RecordReceiver.MaxPingData, length).CopyTo(destination);
        _first = (_first + 1) % Capacity;
        Volatile.Write(ref _count, _count - 1);
        return true;
    }
}
