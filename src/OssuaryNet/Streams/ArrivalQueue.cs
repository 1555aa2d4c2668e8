using System.Net;

namespace OssuaryNet.Streams;

/// <summary>
/// Connections the listener has accepted from the kernel but not yet admitted to a handshake, because the handshake
/// table is full: they wait here instead of in the kernel's backlog, which, once full, drops every newcomer's SYN alike
/// (a client then retries after a second). Fair by source: the next one out is the oldest of the source that holds the
/// fewest handshakes, so that one host's thousand connections queue behind a newcomer from elsewhere, not in front.
/// </summary>
/// <remarks>
/// Bounded: when full, a newcomer from a source that is not the one with the most waiting takes the place of that
/// source's newest arrival, which is refused, so a flood from some sources cannot push out a host that has few. A
/// newcomer from the busiest source itself (a burst from one host) is kept, one over the bound, and the listener stops
/// accepting until the queue is below it again: the rest of the burst waits in the kernel's backlog, served in turn,
/// never refused. Not thread-safe: the listener serialises its use.
/// </remarks>
internal sealed class ArrivalQueue<T>(int capacity)
{
    private readonly LinkedList<(IPAddress Source, T Item)> _waiting = new(); // oldest first
    private readonly Dictionary<IPAddress, int> _perSource = new();
    private readonly Dictionary<IPAddress, int> _loads = new(); // scratch of TryTakeFairest

    public int Count => _waiting.Count;

    /// <summary>Whether the queue is at or over its bound: the listener accepts nothing more until it is not.</summary>
    public bool IsFull => _waiting.Count >= capacity;

    /// <summary>Queues <paramref name="item"/>; returns true with the arrival it displaced in <paramref name="refused"/> when the queue was full.</summary>
    public bool TryAdd(IPAddress source, T item, out T refused)
    {
        refused = default!;
        bool displaces = false;
        if (IsFull)
        {
            IPAddress busiest = source;
            int most = _perSource.GetValueOrDefault(source);
            foreach (var (waiting, count) in _perSource)
            {
                if (count > most)
                {
                    (busiest, most) = (waiting, count);
                }
            }
            for (LinkedListNode<(IPAddress Source, T Item)>? node = _waiting.Last; node is not null && !busiest.Equals(source); node = node.Previous)
            {
                if (node.Value.Source.Equals(busiest))
                {
                    refused = node.Value.Item;
                    Remove(node);
                    displaces = true;
                    break;
                }
            }
        }
        _waiting.AddLast((source, item));
        _perSource[source] = _perSource.GetValueOrDefault(source) + 1;
        return displaces;
    }

    /// <summary>Takes the oldest arrival of the source with the least <paramref name="load"/>.</summary>
    public bool TryTakeFairest(Func<IPAddress, int> load, out IPAddress source, out T item)
    {
        LinkedListNode<(IPAddress Source, T Item)>? best = null;
        int least = int.MaxValue;
        _loads.Clear();
        for (LinkedListNode<(IPAddress Source, T Item)>? node = _waiting.First; node is not null && least > 0; node = node.Next)
        {
            if (!_loads.TryGetValue(node.Value.Source, out int value))
            {
                value = _loads[node.Value.Source] = load(node.Value.Source);
            }
            if (value < least)
            {
                (best, least) = (node, value);
            }
        }
        if (best is null)
        {
            (source, item) = (IPAddress.None, default!);
            return false;
        }
        (source, item) = best.Value;
        Remove(best);
        return true;
    }

    /// <summary>Takes every arrival out (the listener is stopping).</summary>
    public List<T> TakeAll()
    {
        List<T> all = _waiting.Select(w => w.Item).ToList();
        _waiting.Clear();
        _perSource.Clear();
        return all;
    }

    private void Remove(LinkedListNode<(IPAddress Source, T Item)> node)
    {
        _waiting.Remove(node);
        int left = _perSource[node.Value.Source] - 1;
        if (left == 0)
        {
            _perSource.Remove(node.Value.Source);
        }
        else
        {
            _perSource[node.Value.Source] = left;
        }
    }
}
