namespace OssuaryNet.Datagram;

/// <summary>Where a datagram connection stands.</summary>
internal enum DatagramConnectionStage
{
    /// <summary>The first handshake runs (or awaits a verdict); datagrams sent now are held.</summary>
    Connecting,
    /// <summary>Keys exist: datagrams flow.</summary>
    Established,
    /// <summary>Closed, lingering for <see cref="DatagramTimers.CloseLinger"/>: a local close is repeated once per incoming packet, a peer's close drains silently.</summary>
    Closing,
}
