using System.Buffers.Binary;

namespace OssuaryNet.Datagram;

/// <summary>
/// A responder's half-open handshakes, capped globally and per source address, found by the responder's session id
/// (for the Finish) or by the mac1 of the Initiation they answered (for its duplicates), and expired in creation order.
/// </summary>
/// <remarks>
/// Invariants: every entry not yet <see cref="HalfOpenHandshake.Removed"/> is in both maps and counted once for its
/// address; the expiry queue holds entries in non-decreasing creation time (the endpoint clamps time), removed ones
/// included until they reach its head.
/// </remarks>
internal sealed class HalfOpenTable : IDisposable
{
    private readonly Dictionary<uint, HalfOpenHandshake> _byLocalId = new();
    private readonly Dictionary<UInt128, HalfOpenHandshake> _byMac1 = new();
    private readonly Dictionary<DatagramAddress, int> _perAddress = new();
    private readonly Queue<HalfOpenHandshake> _byAge = new();
    private readonly int _capacity, _perAddressCapacity;

    public HalfOpenTable(int capacity, int perAddressCapacity)
    {
        _capacity = capacity;
        _perAddressCapacity = perAddressCapacity;
    }

    public int Count => _byLocalId.Count;

    /// <summary>Whether another entry from <paramref name="address"/> fits.</summary>
    public bool HasRoomFor(in DatagramAddress address) =>
        Count < _capacity && (!_perAddress.TryGetValue(address, out int held) || held < _perAddressCapacity);

    public bool ContainsLocalId(uint id) => _byLocalId.ContainsKey(id);

    public static UInt128 Mac1Key(ReadOnlySpan<byte> mac1) => BinaryPrimitives.ReadUInt128LittleEndian(mac1);

    public bool TryGetByMac1(ReadOnlySpan<byte> mac1, out HalfOpenHandshake entry) => _byMac1.TryGetValue(Mac1Key(mac1), out entry!);

    public bool TryGetByLocalId(uint id, out HalfOpenHandshake entry) => _byLocalId.TryGetValue(id, out entry!);

    public void Add(HalfOpenHandshake entry)
    {
        _byLocalId.Add(entry.LocalId, entry);
        _byMac1[entry.Mac1] = entry;
        _perAddress[entry.Address] = _perAddress.GetValueOrDefault(entry.Address) + 1;
        _byAge.Enqueue(entry);
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
        int held = _perAddress[entry.Address] - 1;
        if (held == 0)
        {
            _perAddress.Remove(entry.Address);
        }
        else
        {
            _perAddress[entry.Address] = held;
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
