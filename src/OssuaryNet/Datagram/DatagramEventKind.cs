namespace OssuaryNet.Datagram;

/// <summary>What happened to a connection (<see cref="DatagramEndpoint.TryPollEvent"/>).</summary>
public enum DatagramEventKind
{
    /// <summary>A connection this endpoint started can send and receive.</summary>
    Connected = 1,
    /// <summary>A peer's handshake completed and its key was verified: a new connection (see <see cref="DatagramEndpoint.GetInfo"/>).</summary>
    Accepted,
    /// <summary>A handshake has authenticated the peer's key and waits for <see cref="DatagramEndpoint.CompletePeerVerification"/>.</summary>
    VerificationRequired,
    /// <summary>Datagrams wait in the connection's receive queue (raised when the queue stops being empty).</summary>
    Readable,
    /// <summary>An authenticated packet moved the peer to a new address (validation follows).</summary>
    PeerMoved,
    /// <summary>The connection is gone; <see cref="DatagramEvent.CloseReason"/> says why. Its handle is dead.</summary>
    Closed,
}
