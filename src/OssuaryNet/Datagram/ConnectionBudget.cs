using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>
/// What a responder's connections may take: a total (shared with this side's own connections), a share per source and
/// a share per peer key; and, when a limit is reached, which connection gives its place: the oldest whose peer has sent
/// no datagram yet (unused), so that a host holding silent connections cannot lock newcomers out.
/// </summary>
/// <remarks>
/// Invariants: every responder connection of the endpoint is counted once under its source and once under its peer
/// key from <see cref="Add"/> to <see cref="Remove"/>; <see cref="_unused"/> holds those of them whose peer sent no
/// datagram, in the order they were made (the endpoint clamps time, so that is also their age order).
/// </remarks>
internal sealed class ConnectionBudget
{
    private readonly int _total, _perSource, _perPeer;
    private readonly Dictionary<DatagramAddress, int> _bySource = new();
    private readonly Dictionary<OssuaryPublicKey, int> _byPeer = new();
    private readonly LinkedList<DatagramConnection> _unused = new();

    public ConnectionBudget(int total, int perSource, int perPeer)
    {
        _total = total;
        _perSource = perSource;
        _perPeer = perPeer;
    }

    /// <summary>The oldest unused responder connection, or null.</summary>
    public DatagramConnection? OldestUnused => _unused.First?.Value;

    /// <summary>
    /// Plans room for one more connection when <paramref name="held"/> exist: for a responder connection from
    /// <paramref name="source"/> with <paramref name="peer"/> (either may be unknown yet, and then is not checked), or
    /// for one this side opens (both unknown). Fills <paramref name="victims"/> with the unused connections to close
    /// first, or returns why no room can be made (and then nothing must be closed).
    /// </summary>
    public DatagramDropReason? Plan(int held, DatagramAddress? source, OssuaryPublicKey? peer, List<DatagramConnection> victims)
    {
        victims.Clear();
        if (peer is not null && _byPeer.GetValueOrDefault(peer) >= _perPeer
            && !TryChoose(victims, c => c.PeerKey == peer))
        {
            victims.Clear();
            return DatagramDropReason.PeerLimit;
        }
        if (source is { } from && _bySource.GetValueOrDefault(from) - victims.Count(v => v.Source.Equals(from)) >= _perSource
            && !TryChoose(victims, c => c.Source.Equals(from)))
        {
            victims.Clear();
            return DatagramDropReason.SourceLimit;
        }
        if (held - victims.Count >= _total && !TryChoose(victims, static _ => true))
        {
            victims.Clear();
            return DatagramDropReason.ConnectionLimit;
        }
        return null;
    }

    private bool TryChoose(List<DatagramConnection> victims, Func<DatagramConnection, bool> matches)
    {
        for (LinkedListNode<DatagramConnection>? node = _unused.First; node is not null; node = node.Next)
        {
            if (matches(node.Value) && !victims.Contains(node.Value))
            {
                victims.Add(node.Value);
                return true;
            }
        }
        return false;
    }

    /// <summary>Counts a new responder connection (unused until <see cref="MarkUsed"/>).</summary>
    public void Add(DatagramConnection connection)
    {
        _bySource[connection.Source] = _bySource.GetValueOrDefault(connection.Source) + 1;
        _byPeer[connection.PeerKey!] = _byPeer.GetValueOrDefault(connection.PeerKey!) + 1;
        connection.UnusedNode = _unused.AddLast(connection);
    }

    /// <summary>The peer sent a datagram: the connection no longer gives its place to newcomers.</summary>
    public void MarkUsed(DatagramConnection connection)
    {
        if (connection.UnusedNode is { } node)
        {
            _unused.Remove(node);
            connection.UnusedNode = null;
        }
    }

    /// <summary>Forgets a responder connection that is gone; any other connection is ignored.</summary>
    public void Remove(DatagramConnection connection)
    {
        if (connection.IsInitiator)
        {
            return;
        }
        MarkUsed(connection);
        Decrement(_bySource, connection.Source);
        Decrement(_byPeer, connection.PeerKey!);
    }

    private static void Decrement<TKey>(Dictionary<TKey, int> counts, TKey key)
        where TKey : notnull
    {
        int left = counts.GetValueOrDefault(key) - 1;
        if (left <= 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = left;
        }
    }
}
