using System.Net;

namespace OssuaryNet.Streams;

/// <summary>
/// The listener's admission policy for handshakes in progress, with time passed in (no clock, no thread of its own).
/// Modelled on OpenSSH's <c>MaxStartups</c>/<c>PerSourcePenalties</c> and nginx's header timeouts, with one change:
/// when full, it makes room by dropping a pending handshake that has shown itself to be slow instead of refusing
/// the newcomer, so that silent or slow clients cannot lock out a fast one.
/// </summary>
/// <remarks>
/// <para>A handshake is <em>stalled</em> once it has been pending for <see cref="StallGrace"/> without its whole first
/// frame having arrived. A real client sends that frame in the same flight as the end of the TCP handshake, so it
/// is processed within milliseconds of the accept; a silent one, a one-byte-per-second one or one that announced a
/// 65,535-byte frame is stalled. Only stalled handshakes are ever dropped to make room: a burst of real clients
/// is never turned against itself.</para>
/// <para>Invariants: at most <see cref="MaxPending"/> handshakes are tracked (callers admit only when
/// <see cref="HasRoom"/>). Limits bite only under pressure, so that a burst from one address (a tunnel's many local
/// flows) is served while there is room: when the table is full, a newcomer takes the place of the oldest stalled
/// handshake of the address with the most pending; a newcomer from an address that already holds
/// <see cref="MaxPendingPerSource"/> may only take the place of its own address's stalled handshake, and is refused
/// when there is none. A handshake whose first frame has not arrived within <see cref="FirstFrameTimeout"/> is dropped
/// by <see cref="Sweep"/> whatever the load. When the owner is at its connection cap, it admits a newcomer only in
/// exchange for a stalled handshake (<c>makeRoom</c>).</para>
/// <para>/// Thread-safe: the accept loop admits, handshake tasks remove, a timer sweeps.</para>
/// </remarks>
internal sealed class PendingHandshakes
{
    private readonly object _sync = new();
    private readonly LinkedList<Entry> _entries = new(); // oldest first
    private readonly Dictionary<IPAddress, int> _perSource = new();

    public PendingHandshakes(int maxPending, int maxPendingPerSource, TimeSpan firstFrameTimeout, TimeSpan stallGrace)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPending, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPendingPerSource, 1);
        MaxPending = maxPending;
        MaxPendingPerSource = maxPendingPerSource;
        FirstFrameTimeout = firstFrameTimeout;
        StallGrace = stallGrace < firstFrameTimeout ? stallGrace : firstFrameTimeout;
    }

    public int MaxPending { get; }

    public int MaxPendingPerSource { get; }

    public TimeSpan FirstFrameTimeout { get; }

    public TimeSpan StallGrace { get; }

    /// <summary>Handshakes being tracked.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Handshakes from <paramref name="source"/> being tracked.</summary>
    public int PendingOf(IPAddress source)
    {
        lock (_sync)
        {
            return _perSource.GetValueOrDefault(source);
        }
    }

    /// <summary>Handshakes dropped so far, to make room or for missing their first-frame deadline.</summary>
    public long Evicted { get; private set; }

    /// <summary>Whether some handshake has stalled at <paramref name="now"/> (and can be dropped for a newcomer).</summary>
    public bool HasStalled(TimeSpan now)
    {
        lock (_sync)
        {
            return Oldest(e => IsStalled(e, now)) is not null;
        }
    }

    /// <summary>Whether a newcomer can be admitted at <paramref name="now"/>: the table has room, or a stalled handshake can make it.</summary>
    public bool HasRoom(TimeSpan now)
    {
        lock (_sync)
        {
            return _entries.Count < MaxPending || Oldest(e => IsStalled(e, now)) is not null;
        }
    }

    /// <summary>
    /// Admits a new handshake from <paramref name="source"/> at <paramref name="now"/>, first dropping into
    /// <paramref name="dropped"/> what the limits require (the caller ends them with their abort, outside the lock).
    /// Under pressure (the table full, or <paramref name="makeRoom"/> because the caller is at its connection cap), the
    /// newcomer takes the place of a stalled handshake; an address that already holds
    /// <see cref="MaxPendingPerSource"/> can only displace its own, and is refused (null) when it has none stalled.
    /// Call only when <see cref="HasRoom"/> (or, with <paramref name="makeRoom"/>, <see cref="HasStalled"/>); should
    /// the table still be full, the oldest handshake waiting for its first frame gives way, to keep the bound strict.
    /// </summary>
    public Entry? Admit(IPAddress source, TimeSpan now, Action abort, List<Entry> dropped, bool makeRoom = false)
    {
        lock (_sync)
        {
            if (makeRoom || _entries.Count >= MaxPending)
            {
                Entry? victim = _perSource.GetValueOrDefault(source) >= MaxPendingPerSource
                    ? Oldest(e => e.Source.Equals(source) && IsStalled(e, now))
                    : StalledVictim(now);
                if (victim is null && _perSource.GetValueOrDefault(source) >= MaxPendingPerSource)
                {
                    Refused++;
                    return null;
                }
                if (victim is not null)
                {
                    Drop(victim, dropped);
                }
            }
            while (_entries.Count >= MaxPending)
            {
                Drop(Oldest(e => !e.FirstFrameReceived) ?? _entries.First!.Value, dropped);
            }
            var entry = new Entry(source, now, abort);
            entry.Node = _entries.AddLast(entry);
            _perSource[source] = _perSource.GetValueOrDefault(source) + 1;
            return entry;
        }
    }

    /// <summary>Newcomers refused because their address was over its limit under pressure.</summary>
    public long Refused { get; private set; }

    /// <summary>
    /// Stops tracking a handshake that ended. Returns false if it had already been dropped (its abort has run or is
    /// about to): once this returns true, the handshake can no longer be dropped.
    /// </summary>
    public bool Remove(Entry entry)
    {
        lock (_sync)
        {
            bool tracked = entry.Node is not null;
            Forget(entry);
            return tracked;
        }
    }

    /// <summary>Drops up to <paramref name="count"/> handshakes still waiting for their first frame, oldest first (to free descriptors at once).</summary>
    public void DropWaiting(int count, List<Entry> dropped)
    {
        lock (_sync)
        {
            while (count-- > 0 && Oldest(e => !e.FirstFrameReceived) is { } waiting)
            {
                Drop(waiting, dropped);
            }
        }
    }

    /// <summary>Drops every handshake whose first frame is overdue at <paramref name="now"/>.</summary>
    public void Sweep(TimeSpan now, List<Entry> dropped)
    {
        lock (_sync)
        {
            for (LinkedListNode<Entry>? node = _entries.First; node is not null;)
            {
                LinkedListNode<Entry>? next = node.Next;
                if (!node.Value.FirstFrameReceived && now - node.Value.Started >= FirstFrameTimeout)
                {
                    Drop(node.Value, dropped);
                }
                node = next;
            }
        }
    }

    private bool IsStalled(Entry entry, TimeSpan now) => !entry.FirstFrameReceived && now - entry.Started >= StallGrace;

    /// <summary>The oldest stalled handshake of the address with the most pending handshakes, or null if none has stalled.</summary>
    private Entry? StalledVictim(TimeSpan now)
    {
        IPAddress? busiest = null;
        int most = 0;
        foreach (Entry e in _entries)
        {
            if (IsStalled(e, now) && _perSource[e.Source] > most)
            {
                most = _perSource[e.Source];
                busiest = e.Source;
            }
        }
        return busiest is null ? null : Oldest(e => e.Source.Equals(busiest) && IsStalled(e, now));
    }

    private Entry? Oldest(Func<Entry, bool> match)
    {
        foreach (Entry e in _entries)
        {
            if (match(e))
            {
                return e;
            }
        }
        return null;
    }

    private void Drop(Entry entry, List<Entry> dropped)
    {
        Forget(entry);
        Evicted++;
        dropped.Add(entry);
    }

    private void Forget(Entry entry)
    {
        if (entry.Node is null)
        {
            return;
        }
        _entries.Remove(entry.Node);
        entry.Node = null;
        int left = _perSource[entry.Source] - 1;
        if (left == 0)
        {
            _perSource.Remove(entry.Source);
        }
        else
        {
            _perSource[entry.Source] = left;
        }
    }

    /// <summary>One handshake in progress.</summary>
    public sealed class Entry(IPAddress source, TimeSpan started, Action abort)
    {
        private volatile bool _firstFrameReceived;

        public IPAddress Source { get; } = source;

        public TimeSpan Started { get; } = started;

        /// <summary>Ends the handshake (closes its socket); called by the owner of the dropped list, outside the lock.</summary>
        public Action Abort { get; } = abort;

        /// <summary>Set by the handshake once the client's whole first frame has arrived.</summary>
        public bool FirstFrameReceived
        {
            get => _firstFrameReceived;
            set => _firstFrameReceived = value;
        }

        internal LinkedListNode<Entry>? Node { get; set; }
    }
}
