namespace OssuaryNet.Datagram;

/// <summary>
/// Packets built and waiting for the caller to send them (<see cref="DatagramEndpoint.TryPollTransmit"/>), each in a
/// buffer of the endpoint's pool, so that a steady flow allocates nothing. Bounded: when the caller stops draining, new packets are
/// refused (and counted by the caller) rather than kept without limit.
/// </summary>
internal sealed class TransmitQueue : IDisposable
{
    public const int Limit = 4096;

    private readonly Queue<Entry> _entries = new();
    private readonly PacketBufferPool _pool;

    public TransmitQueue(PacketBufferPool pool) => _pool = pool;

    public int Count => _entries.Count;

    public bool IsFull => _entries.Count >= Limit;

    /// <summary>A buffer to build a packet in (the endpoint's largest datagram); give it to <see cref="Enqueue"/> or <see cref="Return"/>.</summary>
    public byte[] Rent() => _pool.Rent();

    /// <summary>Takes back a buffer that was not queued; packets hold ciphertext only, so nothing is wiped.</summary>
    public void Return(byte[] buffer) => _pool.Return(buffer, 0, wipe: false);

    /// <summary>Queues a built packet; false (and the buffer returned) when the queue is full.</summary>
    public bool Enqueue(byte[] buffer, int length, in DatagramAddress to)
    {
        if (IsFull)
        {
            Return(buffer);
            return false;
        }
        _entries.Enqueue(new Entry(buffer, length, to));
        return true;
    }

    /// <summary>Copies the oldest packet and its address out and frees its buffer.</summary>
    public bool TryDequeue(Span<byte> packet, Span<byte> address, out int packetLength, out int addressLength)
    {
        packetLength = addressLength = 0;
        if (!_entries.TryPeek(out Entry entry))
        {
            return false;
        }
        if (packet.Length < entry.Length)
        {
            throw new ArgumentException($"The packet buffer holds {packet.Length} bytes; the next packet has {entry.Length} (allow MaxDatagramSize).", nameof(packet));
        }
        if (address.Length < entry.To.Length)
        {
            throw new ArgumentException($"The address buffer holds {address.Length} bytes; allow {DatagramAddress.MaxSize}.", nameof(address));
        }
        _entries.Dequeue();
        entry.Buffer.AsSpan(0, entry.Length).CopyTo(packet);
        entry.To.Bytes.CopyTo(address);
        packetLength = entry.Length;
        addressLength = entry.To.Length;
        Return(entry.Buffer);
        return true;
    }

    public void Dispose()
    {
        while (_entries.TryDequeue(out Entry entry))
        {
            Return(entry.Buffer);
        }
    }

    private readonly record struct Entry(byte[] Buffer, int Length, DatagramAddress To);
}
