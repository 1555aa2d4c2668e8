namespace OssuaryNet.Datagram;

/// <summary>
/// Why a received datagram was dropped. Network input never throws in datagram mode: every packet that is not taken
/// is counted under exactly one of these reasons (docs/DATAGRAM design, "Statistics").
/// </summary>
internal enum DatagramDropReason
{
    /// <summary>Too short, too long, a length field that does not fit, non-zero reserved bytes or padding, a zero session id.</summary>
    Malformed = 1,
    /// <summary>An unknown packet type, or a version other than 1.</summary>
    UnknownTypeOrVersion,
    /// <summary>An Initiation whose mac1 does not match: not meant for this responder, or damaged.</summary>
    BadMac1,
    /// <summary>No connection has this receiver session id.</summary>
    UnknownSession,
    /// <summary>The session's key pair has expired.</summary>
    ExpiredKeyPair,
    /// <summary>The counter is at or past the key pair's message limit.</summary>
    CounterLimit,
    /// <summary>The counter was accepted before.</summary>
    Duplicate,
    /// <summary>The counter is more than 4032 behind the highest accepted.</summary>
    BehindWindow,
    /// <summary>The packet failed authenticated decryption.</summary>
    AuthenticationFailed,
    /// <summary>The sender exceeded its rate.</summary>
    RateLimited,
    /// <summary>The table of half-open handshakes is full.</summary>
    TableFull,
    /// <summary>The packet is larger than the configured maximum.</summary>
    Oversize,
    /// <summary>The connection's receive queue is full.</summary>
    ReceiveQueueFull,
}
