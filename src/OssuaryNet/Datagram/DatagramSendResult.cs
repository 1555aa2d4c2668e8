namespace OssuaryNet.Datagram;

/// <summary>What <see cref="DatagramEndpoint.Send"/> did with a datagram.</summary>
public enum DatagramSendResult
{
    /// <summary>Sealed into a packet waiting in <see cref="DatagramEndpoint.TryPollTransmit"/>.</summary>
    Sent = 1,
    /// <summary>Held until the handshake completes (at most 16 per connection; the oldest is dropped beyond).</summary>
    Queued,
    /// <summary>Larger than <see cref="DatagramEndpoint.MaxPayloadSize"/>: not sent.</summary>
    TooLarge,
    /// <summary>The connection is closed or closing: not sent.</summary>
    Closed,
}
