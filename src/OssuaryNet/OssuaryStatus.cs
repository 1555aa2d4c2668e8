namespace OssuaryNet;

/// <summary>What a <see cref="OssuaryConnection.Receive"/> or <see cref="OssuaryConnection.Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> call left owing.</summary>
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
    /// Receive only: a later frame in the input failed, after authentic plaintext from earlier frames had been written in
    /// this call. That plaintext is returned (it is genuine); the connection is failed and the next call throws the error.
    /// </summary>
    Failed,
}
