namespace OssuaryNet.Datagram;

/// <summary>
/// The counters of a <see cref="DatagramEndpoint"/>: monotone totals since it was created, and two gauges
/// (<see cref="HalfOpenHandshakes"/>, <see cref="Connections"/>). <see cref="DatagramEndpoint.Statistics"/> returns a copy.
/// </summary>
public sealed class DatagramStatistics
{
    private const int PacketTypes = 6; // index = packet type byte (1…5); 0 unused
    private long[] _packetsIn = new long[PacketTypes], _bytesIn = new long[PacketTypes];
    private long[] _packetsOut = new long[PacketTypes], _bytesOut = new long[PacketTypes];
    private long[] _drops = new long[Enum.GetValues<DatagramDropReason>().Length + 1];

    internal DatagramStatistics()
    {
    }

    /// <summary>Handshakes this endpoint began as initiator (first contacts and rekeys).</summary>
    public long HandshakesStarted { get; internal set; }

    /// <summary>Handshakes completed, in either role.</summary>
    public long HandshakesCompleted { get; internal set; }

    /// <summary>Initiator handshakes abandoned after 90 s without an answer.</summary>
    public long HandshakesTimedOut { get; internal set; }

    /// <summary>Handshakes whose peer key was rejected, in either role.</summary>
    public long HandshakesRejected { get; internal set; }

    /// <summary>Initiations sent again (same bytes) because no answer came.</summary>
    public long HandshakeRetransmissions { get; internal set; }

    /// <summary>CookieReplies sent instead of a Response.</summary>
    public long CookieRepliesSent { get; internal set; }

    /// <summary>Initiations that carried a valid token.</summary>
    public long TokensAccepted { get; internal set; }

    /// <summary>Tokens refused because they do not have the size of a token.</summary>
    public long TokensMalformed { get; internal set; }

    /// <summary>Tokens refused because their secret was retired (older than 2 rotations).</summary>
    public long TokensExpired { get; internal set; }

    /// <summary>Tokens refused because their MAC does not match (another address or session id, or made up).</summary>
    public long TokensForged { get; internal set; }

    /// <summary>How many times the endpoint went under load.</summary>
    public long TimesUnderLoad { get; internal set; }

    /// <summary>Total time spent under load, as far as the times passed in tell.</summary>
    public TimeSpan TimeUnderLoad { get; internal set; }

    /// <summary>Rekeys completed on existing connections.</summary>
    public long Rekeys { get; internal set; }

    /// <summary>Times a peer moved to a new address.</summary>
    public long RoamingEvents { get; internal set; }

    /// <summary>Early data delivered (IK Initiations at a listener that accepts it).</summary>
    public long EarlyDataAccepted { get; internal set; }

    /// <summary>Early data not delivered (the listener does not accept it).</summary>
    public long EarlyDataRefused { get; internal set; }

    /// <summary>Responder connections closed to make room for a newcomer at a limit (their peers had sent no datagram).</summary>
    public long ConnectionsEvicted { get; internal set; }

    /// <summary>Responder connections closed because their peers sent no datagram within the unused-connection timeout.</summary>
    public long ConnectionsUnused { get; internal set; }

    /// <summary>First-contact IK handshakes answered whose keys no packet confirmed within the half-open lifetime: no connection was made.</summary>
    public long HandshakesUnconfirmed { get; internal set; }

    /// <summary>Datagrams dropped from a connection's queue while it waited for a handshake (the oldest go first).</summary>
    public long QueuedDatagramsDropped { get; internal set; }

    /// <summary>Packets not queued for sending because the caller had not drained 4096 earlier ones.</summary>
    public long TransmitsDropped { get; internal set; }

    /// <summary>Half-open handshakes held now (responder state awaiting a Finish, a verdict or key confirmation).</summary>
    public long HalfOpenHandshakes { get; internal set; }

    /// <summary>Connections held now, established or handshaking.</summary>
    public long Connections { get; internal set; }

    /// <summary>Packets received of a type (1 Initiation … 5 Data), whatever became of them.</summary>
    public long PacketsIn(int packetType) => _packetsIn[Index(packetType)];

    /// <summary>Bytes received in packets of a type.</summary>
    public long BytesIn(int packetType) => _bytesIn[Index(packetType)];

    /// <summary>Packets sent of a type.</summary>
    public long PacketsOut(int packetType) => _packetsOut[Index(packetType)];

    /// <summary>Bytes sent in packets of a type.</summary>
    public long BytesOut(int packetType) => _bytesOut[Index(packetType)];

    /// <summary>All packets received.</summary>
    public long TotalPacketsIn => Sum(_packetsIn);

    /// <summary>All bytes received.</summary>
    public long TotalBytesIn => Sum(_bytesIn);

    /// <summary>All packets sent.</summary>
    public long TotalPacketsOut => Sum(_packetsOut);

    /// <summary>All bytes sent.</summary>
    public long TotalBytesOut => Sum(_bytesOut);

    /// <summary>Packets dropped for <paramref name="reason"/>.</summary>
    public long Dropped(DatagramDropReason reason) => _drops[(int)reason];

    /// <summary>Packets dropped for any reason.</summary>
    public long TotalDropped => Sum(_drops);

    internal void CountIn(byte type, int bytes)
    {
        int index = type < PacketTypes ? type : 0;
        _packetsIn[index]++;
        _bytesIn[index] += bytes;
    }

    internal void CountOut(byte type, int bytes)
    {
        _packetsOut[type]++;
        _bytesOut[type] += bytes;
    }

    internal void CountDrop(DatagramDropReason reason) => _drops[(int)reason]++;

    /// <summary>A snapshot: the scalar counters copied by <c>MemberwiseClone</c>, the arrays copied one by one.</summary>
    internal DatagramStatistics Clone()
    {
        var copy = (DatagramStatistics)MemberwiseClone();
        copy._packetsIn = (long[])_packetsIn.Clone();
        copy._bytesIn = (long[])_bytesIn.Clone();
        copy._packetsOut = (long[])_packetsOut.Clone();
        copy._bytesOut = (long[])_bytesOut.Clone();
        copy._drops = (long[])_drops.Clone();
        return copy;
    }

    private static int Index(int packetType) =>
        packetType is >= 1 and < PacketTypes ? packetType : throw new ArgumentOutOfRangeException(nameof(packetType), "Packet types are 1 to 5.");

    private static long Sum(long[] values)
    {
        long total = 0;
        foreach (long value in values)
        {
            total += value;
        }
        return total;
    }
}
