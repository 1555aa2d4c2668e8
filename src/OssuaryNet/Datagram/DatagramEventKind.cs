namespace OssuaryNet.Datagram;

/// <summary>What happened to a connection (<see cref="DatagramEndpoint.TryPollEvent"/>).</summary>
public enum DatagramEventKind
{
    /// <summary>A connection this endpoint started can send and receive: the responder has let it in (IK: its Response; XX: its first packet under the new keys, after its verdict).</summary>
    Connected = 1,
    /// <summary>A peer's handshake completed, its key was verified, and a packet under the new keys arrived (key confirmation): a new connection (see <see cref="DatagramEndpoint.GetInfo"/>).</summary>
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
