namespace OssuaryNet;

/// <summary>What a <see cref="OssuaryConnection.Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> or <see cref="OssuaryConnection.Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> call left owing.</summary>
public enum OssuaryStatus
{
    /// <summary>Everything handed over was processed.</summary>
    Done,
    /// <summary>All input was consumed (a partial frame is kept inside); feed more received bytes.</summary>
    NeedMoreInput,
    /// <summary>The destination is full or too small for the next unit; see <see cref="OssuaryConnection.RequiredDestinationSize"/>. Call again with room.</summary>
    DestinationTooSmall,
    /// <summary>The connection has bytes to send (handshake or control) before it consumes more input: call <see cref="OssuaryConnection.Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>.</summary>
    OutputPending,
    /// <summary>The peer closed its direction with an authenticated close; all its data has been delivered.</summary>
    Closed,
    /// <summary>Plaintext cannot be sent before the handshake completes; nothing was consumed.</summary>
    HandshakeInProgress,
    /// <summary>
    /// Receive only: the handshake has authenticated the peer's static key and waits for a verdict on it. Judge
    /// <see cref="OssuaryConnection.PeerToVerify"/> and call <see cref="OssuaryConnection.CompletePeerVerification"/>;
    /// until then the connection consumes no input and sends nothing.
    /// </summary>
    PeerVerificationRequired,
}
