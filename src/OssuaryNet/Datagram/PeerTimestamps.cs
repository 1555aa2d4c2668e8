using System.Buffers.Binary;
using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>
/// For each static key that opened IK handshakes here: the timestamps of the last <see cref="Window"/> Initiations
/// consumed, and a token bucket of Initiations (burst <see cref="Window"/>, one more per
/// <see cref="DatagramTimers.MinInitiationInterval"/>). A replayed Initiation carries a timestamp already consumed, or
/// one older than every timestamp of the window, and is refused before it can create anything or deliver its early
/// data again; a key may not make the responder consume Initiations faster than the bucket allows.
/// </summary>
/// <remarks>
/// <para>A window rather than one newest timestamp (WireGuard's rule) because one key may open several connections at
/// once (a tunnel's flows): their Initiations may arrive in another order than their timestamps, and a single newest
/// timestamp would make every earlier one stale for ever. Invariant: each timestamp is consumed at most once per key,
/// and none older than the oldest of the last <see cref="Window"/> consumed.</para>
/// <para>Bounded (<see cref="Capacity"/> keys); the oldest-recorded key is forgotten first, and a restarted responder
/// knows none. A forgotten key's old Initiations can be replayed once each: they cannot complete a handshake (the
/// attacker lacks the ephemeral key), but their early data would be delivered again, which is why early data is
/// flagged and off by default.</para>
/// </remarks>
internal sealed class PeerTimestamps
{
    public const int Capacity = 65536;
    public const int TimestampSize = 12;

    /// <summary>Timestamps remembered per key, and the burst of Initiations a key may have consumed at once.</summary>
    public const int Window = 8;

    private readonly Dictionary<OssuaryPublicKey, Entry> _entries = new();
    private readonly Queue<OssuaryPublicKey> _order = new();

    /// <summary>Why an Initiation of <paramref name="key"/> with <paramref name="timestamp"/> may not be consumed now, or null when it may.</summary>
    public DatagramDropReason? Check(OssuaryPublicKey key, ReadOnlySpan<byte> timestamp, TimeSpan now)
    {
        if (!_entries.TryGetValue(key, out Entry? entry))
        {
            return null;
        }
        UInt128 value = Value(timestamp);
        if (entry.IsStale(value))
        {
            return DatagramDropReason.StaleTimestamp;
        }
        return entry.Tokens(now) < 1 ? DatagramDropReason.RateLimited : null;
    }

    /// <summary>Records a consumed Initiation (after it authenticated and passed <see cref="Check"/>).</summary>
    public void Record(OssuaryPublicKey key, ReadOnlySpan<byte> timestamp, TimeSpan now)
    {
        if (!_entries.TryGetValue(key, out Entry? entry))
        {
            if (_entries.Count >= Capacity)
            {
                _entries.Remove(_order.Dequeue());
            }
            _order.Enqueue(key);
            entry = new Entry(now);
            _entries.Add(key, entry);
        }
        entry.Consume(Value(timestamp), now);
    }

    /// <summary>Writes the 12-byte timestamp of <paramref name="wallClock"/>: seconds since the Unix epoch (u64) and nanoseconds (u32), big-endian, so that byte order is time order.</summary>
    public static void Write(DateTimeOffset wallClock, Span<byte> destination)
    {
        long ticks = Math.Max(0, (wallClock - DateTimeOffset.UnixEpoch).Ticks);
        BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)(ticks / TimeSpan.TicksPerSecond));
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    /// <summary>A timestamp as a number in time order (seconds, then nanoseconds).</summary>
    private static UInt128 Value(ReadOnlySpan<byte> timestamp) =>
        ((UInt128)BinaryPrimitives.ReadUInt64BigEndian(timestamp) << 32) + BinaryPrimitives.ReadUInt32BigEndian(timestamp[8..]);

    private sealed class Entry(TimeSpan now)
    {
        private readonly UInt128[] _recent = new UInt128[Window];
        private int _count;
        private double _tokens = Window;
        private TimeSpan _at = now;

        /// <summary>Consumed before, or older than every timestamp of a full window.</summary>
        public bool IsStale(UInt128 value)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_recent[i] == value)
                {
                    return true;
                }
            }
            return _count == Window && value < Oldest(out _);
        }

        public double Tokens(TimeSpan now) =>
            Math.Min(Window, _tokens + Math.Max(0, (now - _at).TotalMilliseconds) / DatagramTimers.MinInitiationInterval.TotalMilliseconds);

        public void Consume(UInt128 value, TimeSpan now)
        {
            _tokens = Tokens(now) - 1;
            _at = now > _at ? now : _at;
            if (_count < Window)
            {
                _recent[_count++] = value;
                return;
            }
            Oldest(out int index);
            _recent[index] = value;
        }

        private UInt128 Oldest(out int index)
        {
            index = 0;
            for (int i = 1; i < _count; i++)
            {
                if (_recent[i] < _recent[index])
                {
                    index = i;
                }
            }
            return _recent[index];
        }
    }
}
