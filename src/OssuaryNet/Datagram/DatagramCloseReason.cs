namespace OssuaryNet.Datagram;

/// <summary>Why a datagram connection ended.</summary>
public enum DatagramCloseReason
{
    /// <summary>This side called <see cref="DatagramEndpoint.Close"/>.</summary>
    Local = 1,
    /// <summary>The peer sent an authenticated close (its code is in <see cref="DatagramEvent.PeerCloseCode"/>).</summary>
    ByPeer,
    /// <summary>The handshake got no answer for 90 s (or was never confirmed), or a dead peer did not answer a new handshake.</summary>
    HandshakeTimedOut,
    /// <summary>The peer's key was rejected (by the verifier, or because it was not the expected key).</summary>
    PeerRejected,
    /// <summary>No handshake for 540 s: the keys were wiped.</summary>
    Idle,
    /// <summary>A responder's connection on which the peer sent no datagram within <see cref="DatagramOptions.UnusedConnectionTimeout"/>.</summary>
    Unused,
    /// <summary>A responder's connection on which the peer had sent no datagram gave its place to a newcomer at a connection limit.</summary>
    Evicted,
}
