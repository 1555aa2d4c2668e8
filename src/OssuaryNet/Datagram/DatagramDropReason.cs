namespace OssuaryNet.Datagram;

/// <summary>
/// Why a received packet was dropped. Network input never throws in datagram mode: every packet that is not taken is
/// counted under exactly one of these reasons (<see cref="DatagramStatistics.Dropped"/>), and changes nothing else.
/// </summary>
public enum DatagramDropReason
{
    /// <summary>Too short, a length field that does not fit, non-zero reserved bytes or padding, a zero session id, or an inner plaintext that does not parse.</summary>
    Malformed = 1,
    /// <summary>An unknown packet type, or a version other than 1.</summary>
    UnknownTypeOrVersion,
    /// <summary>An Initiation whose mac1 does not match: not meant for this responder, or damaged.</summary>
    BadMac1,
    /// <summary>No connection or handshake has this receiver session id.</summary>
    UnknownSession,
    /// <summary>The session's key pair is older than 180 s.</summary>
    ExpiredKeyPair,
    /// <summary>The counter is at or past the key pair's message limit.</summary>
    CounterLimit,
    /// <summary>The counter was accepted before.</summary>
    Duplicate,
    /// <summary>The counter is more than 4032 behind the highest accepted.</summary>
    BehindWindow,
    /// <summary>The packet failed authenticated decryption.</summary>
    AuthenticationFailed,
    /// <summary>The sender exceeded its rate (Initiations with a valid token under load; IK Initiations of one key within 20 ms).</summary>
    RateLimited,
    /// <summary>The table of half-open handshakes is full (globally or for this address).</summary>
    TableFull,
    /// <summary>The packet is larger than the largest datagram this endpoint takes.</summary>
    Oversize,
    /// <summary>The connection's receive queue is full.</summary>
    ReceiveQueueFull,
    /// <summary>A handshake message that failed to authenticate or carried an unusable key.</summary>
    HandshakeFailed,
    /// <summary>An IK Initiation whose timestamp is not newer than the last one from its key: a replay.</summary>
    StaleTimestamp,
    /// <summary>A handshake that would make a new connection while the endpoint holds its most (<see cref="DatagramOptions.MaxConnections"/>), none of them unused.</summary>
    ConnectionLimit,
    /// <summary>A well-formed packet nobody waits for: an Initiation at an endpoint that does not accept, a Response or CookieReply for no outstanding attempt, a second CookieReply, a packet of a closing connection.</summary>
    Unexpected,
    /// <summary>An Initiation of a pattern this endpoint's post-quantum policy excludes: a hybrid one with <see cref="OssuaryPostQuantum.Off"/>, a classical one with <see cref="OssuaryPostQuantum.Required"/>.</summary>
    UnsupportedPattern = 18,
    /// <summary>A handshake that would make a new connection for a source that holds its most (<see cref="DatagramOptions.MaxConnectionsPerSource"/>), none of them unused.</summary>
    SourceLimit = 19,
    /// <summary>A handshake that would make a new connection for a peer key that holds its most (<see cref="DatagramOptions.MaxConnectionsPerPeer"/>), none of them unused.</summary>
    PeerLimit = 20,
}
