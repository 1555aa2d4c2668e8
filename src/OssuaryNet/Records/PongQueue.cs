namespace OssuaryNet.Records;

/// <summary>
/// The pongs the receiver owes, on their way to the sender: the one channel between the two halves of an
/// established connection, which may run on two threads at once.
/// </summary>
/// <remarks>
/// Invariants: at most <see cref="Capacity"/> pongs of at most <see cref="RecordReceiver.MaxPingData"/> bytes wait, in
/// the order their pings arrived; once it is full the receiver consumes no more input until the sender has taken them,
/// so a ping flood cannot grow memory. The lock (on the queue itself, which never leaves its connection, to spare
/// each connection an object) guards a few bytes, never a cryptographic operation or I/O.
/// </remarks>
internal sealed class PongQueue
{
    public const int Capacity = 32;

    // Allocated at the first ping: most connections never receive one, and a handshake should stay small.
    private byte[]? _data;
    private int[]? _lengths;
    private int _first, _count;

    /// <summary>Pongs waiting; read without the lock as a hint.</summary>
    public int Count => Volatile.Read(ref _count);

    public bool IsFull => Count >= Capacity;

    /// <summary>Queues a pong echoing <paramref name="data"/>; false when full (the receiver then stops taking input).</summary>
    public bool TryEnqueue(ReadOnlySpan<byte> data)
    {
        lock (this)
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
    }

    /// <summary>Copies the oldest pong's data into <paramref name="destination"/> (64 bytes) and removes it; false when none waits.</summary>
    public bool TryDequeue(Span<byte> destination, out int length)
    {
        lock (this)
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

    /// <summary>Drops every pong (the connection failed).</summary>
    public void Clear()
    {
        lock (this)
        {
            _first = 0;
            Volatile.Write(ref _count, 0);
        }
    }
}
