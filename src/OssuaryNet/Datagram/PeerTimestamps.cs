using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>
/// For each static key that opened IK handshakes here: the newest timestamp its Initiations carried and when one was
/// last consumed. A replayed Initiation carries an old timestamp and is refused before it can create anything or
/// deliver its early data again; a key may not make the responder consume more than one Initiation per 20 ms.
/// </summary>
/// <remarks>
/// Bounded (<see cref="Capacity"/> keys); the oldest-recorded key is forgotten first, and a restarted responder knows
/// none. A forgotten key's old Initiations can be replayed once each: they cannot complete a handshake (the attacker
/// lacks the ephemeral key), but their early data would be delivered again, which is why early data is flagged and off
/// by default.
/// </remarks>
internal sealed class PeerTimestamps
{
    public const int Capacity = 65536;
    public const int TimestampSize = 12;

    private readonly Dictionary<OssuaryPublicKey, Entry> _entries = new();
    private readonly Queue<OssuaryPublicKey> _order = new();

    /// <summary>Whether <paramref name="timestamp"/> is newer than every earlier one of <paramref name="key"/>, and no Initiation of it was consumed in the last 20 ms.</summary>
    public DatagramDropReason? Check(OssuaryPublicKey key, ReadOnlySpan<byte> timestamp, TimeSpan now)
    {
        if (!_entries.TryGetValue(key, out Entry entry))
        {
            return null;
        }
        if (timestamp.SequenceCompareTo(entry.Timestamp) <= 0)
        {
            return DatagramDropReason.StaleTimestamp;
        }
        return now - entry.ConsumedAt < DatagramTimers.MinInitiationInterval ? DatagramDropReason.RateLimited : null;
    }

    /// <summary>Records a consumed Initiation (after it authenticated and passed <see cref="Check"/>).</summary>
    public void Record(OssuaryPublicKey key, ReadOnlySpan<byte> timestamp, TimeSpan now)
    {
        if (!_entries.ContainsKey(key))
        {
            if (_entries.Count >= Capacity)
            {
                _entries.Remove(_order.Dequeue());
            }
            _order.Enqueue(key);
        }
        _entries[key] = new Entry(timestamp.ToArray(), now);
    }

    /// <summary>Writes the 12-byte timestamp of <paramref name="wallClock"/>: seconds since the Unix epoch (u64) and nanoseconds (u32), big-endian, so that byte order is time order.</summary>
    public static void Write(DateTimeOffset wallClock, Span<byte> destination)
    {
        long ticks = Math.Max(0, (wallClock - DateTimeOffset.UnixEpoch).Ticks);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)(ticks / TimeSpan.TicksPerSecond));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    private readonly record struct Entry(byte[] Timestamp, TimeSpan ConsumedAt);
}
