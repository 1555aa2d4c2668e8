namespace OssuaryNet.Datagram;

/// <summary>One event of a <see cref="DatagramEndpoint"/>: a kind and the connection it concerns.</summary>
public readonly record struct DatagramEvent(DatagramEventKind Kind, DatagramHandle Handle)
{
    /// <summary>For <see cref="DatagramEventKind.Closed"/>: why.</summary>
    public DatagramCloseReason CloseReason { get; init; }

    /// <summary>For <see cref="DatagramEventKind.Closed"/> by the peer: the reason code its close carried.</summary>
    public ushort PeerCloseCode { get; init; }
}
