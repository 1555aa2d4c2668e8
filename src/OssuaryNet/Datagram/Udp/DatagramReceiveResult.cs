namespace OssuaryNet.Datagram;

/// <summary>
/// What <see cref="OssuaryUdpConnection.ReceiveAsync"/> took: a datagram's length and flags, or, once the connection
/// has closed and every datagram received before was read, the close (as <c>WebSocketReceiveResult</c> reports one).
/// </summary>
public readonly record struct DatagramReceiveResult(int Length, DatagramReceiveFlags Flags)
{
    /// <summary>True when the connection closed: nothing more will arrive, and <see cref="Length"/> is 0.</summary>
    public bool IsClosed { get; init; }

    /// <summary>Why the connection closed, when <see cref="IsClosed"/>.</summary>
    public DatagramCloseReason CloseReason { get; init; }

    /// <summary>The reason code the peer's close carried, when it closed the connection.</summary>
    public ushort PeerCloseCode { get; init; }
}
