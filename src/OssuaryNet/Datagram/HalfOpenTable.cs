using System.Buffers.Binary;

namespace OssuaryNet.Datagram;

/// <summary>
/// A responder's half-open handshakes, capped globally and per source (<see cref="SourceGrouping"/>), found by the responder's session id
/// (for the Finish) or by the mac1 of the Initiation they answered (for its duplicates), and expired in creation order.
/// </summary>
/// <remarks>
/// <para>Only handshakes still open count against the caps and as load: every state a stranger's Initiation created and
/// that has not become a connection (XX awaiting its Finish or verdict, IK awaiting its verdict or its key
/// confirmation). An answered one (the handshake is over; the
/// entry keeps its Response for duplicates until it expires) frees its place at once, or a client behind one address
/// could open only 8 connections per 15 s. Answered entries are bounded by a second cap, twice the first.</para>
/// <para>Invariants: every entry not yet <see cref="HalfOpenHandshake.Removed"/> is in both maps; those not answered
/// are counted in <see cref="Pending"/> and once for their source; the expiry queue holds entries in non-decreasing
/// creation time (the endpoint clamps time), removed ones included until they reach its head.</para>
/// </remarks>
internal sealed class HalfOpenTable : IDisposable
{
    private readonly Dictionary<uint, HalfOpenHandshake> _byLocalId = new();
    private readonly Dictionary<UInt128, HalfOpenHandshake> _byMac1 = new();
    private readonly Dictionary<DatagramAddress, int> _perSource = new();
    private readonly Queue<HalfOpenHandshake> _byAge = new();
    private readonly int _capacity, _perSourceCapacity;

    public HalfOpenTable(int capacity, int perSourceCapacity)
    {
        _capacity = capacity;
        _perSourceCapacity = perSourceCapacity;
    }

    /// <summary>Entries held, answered ones included.</summary>
    public int Count => _byLocalId.Count;

    /// <summary>Handshakes still open (not answered): what the caps and the load threshold count.</summary>
    public int Pending { get; private set; }

    /// <summary>Whether another open handshake from <paramref name="source"/> fits.</summary>
    public bool HasRoomFor(in DatagramAddress source) =>
        Pending < _capacity && Count < 2 * _capacity && (!_perSource.TryGetValue(source, out int held) || held < _perSourceCapacity);

    public bool ContainsLocalId(uint id) => _byLocalId.ContainsKey(id);

    public static UInt128 Mac1Key(ReadOnlySpan<byte> mac1) => BinaryPrimitives.ReadUInt128LittleEndian(mac1);

    public bool TryGetByMac1(ReadOnlySpan<byte> mac1, out HalfOpenHandshake entry) => _byMac1.TryGetValue(Mac1Key(mac1), out entry!);

    public bool TryGetByLocalId(uint id, out HalfOpenHandshake entry) => _byLocalId.TryGetValue(id, out entry!);

    public void Add(HalfOpenHandshake entry)
    {
        _byLocalId.Add(entry.LocalId, entry);
        _byMac1[entry.Mac1] = entry;
        CountOpen(entry, +1);
        _byAge.Enqueue(entry);
    }

    /// <summary>The handshake is over: the entry stays for duplicates of its Initiation but no longer counts as open.</summary>
    public void MarkAnswered(HalfOpenHandshake entry)
    {
        if (entry.Stage != HalfOpenStage.Answered)
        {
            entry.Stage = HalfOpenStage.Answered;
            if (!entry.Removed && _byLocalId.ContainsKey(entry.LocalId))
            {
                CountOpen(entry, -1);
            }
        }
    }

    private void CountOpen(HalfOpenHandshake entry, int change)
    {
        Pending += change;
        int held = _perSource.GetValueOrDefault(entry.Source) + change;
        if (held == 0)
        {
            _perSource.Remove(entry.Source);
        }
        else
        {
            _perSource[entry.Source] = held;
        }
    }

    public void Remove(HalfOpenHandshake entry)
    {
        if (entry.Removed)
        {
            return;
        }
        entry.Removed = true;
        _byLocalId.Remove(entry.LocalId);
        if (_byMac1.TryGetValue(entry.Mac1, out HalfOpenHandshake? current) && ReferenceEquals(current, entry))
        {
            _byMac1.Remove(entry.Mac1);
        }
        if (entry.Stage != HalfOpenStage.Answered)
        {
            CountOpen(entry, -1);
        }
        entry.Dispose();
    }

    /// <summary>Removes the entries older than <see cref="DatagramTimers.HalfOpenLifetime"/>; <paramref name="expired"/> sees each first.</summary>
    public void Expire(TimeSpan now, Action<HalfOpenHandshake> expired)
    {
        while (_byAge.TryPeek(out HalfOpenHandshake? oldest) && (oldest.Removed || now - oldest.CreatedAt >= DatagramTimers.HalfOpenLifetime))
        {
            _byAge.Dequeue();
            if (!oldest.Removed)
            {
                expired(oldest);
                Remove(oldest);
            }
        }
    }

    /// <summary>When the oldest entry expires, or null when there is none.</summary>
    public TimeSpan? NextExpiry()
    {
        foreach (HalfOpenHandshake entry in _byAge)
        {
            if (!entry.Removed)
            {
                return entry.CreatedAt + DatagramTimers.HalfOpenLifetime;
            }
        }
        return null;
    }

    public void Dispose()
    {
        foreach (HalfOpenHandshake entry in _byLocalId.Values.ToArray())
        {
            Remove(entry);
        }
        _byAge.Clear();
    }
}
