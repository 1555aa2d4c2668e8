using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>A snapshot of one connection (<see cref="DatagramEndpoint.GetInfo"/>).</summary>
public sealed record DatagramConnectionInfo
{
    /// <summary>The peer's static key once the handshake authenticated it (and, for a responder, once it was verified).</summary>
    public OssuaryPublicKey? PeerKey { get; init; }

    /// <summary>The peer key's fingerprint, or null before it is known.</summary>
    public string? PeerFingerprint => PeerKey?.Fingerprint;

    /// <summary>Whether this side started the connection.</summary>
    public bool IsInitiator { get; init; }

    /// <summary>The pattern of the first handshake (rekeys always use IK).</summary>
    public OssuaryHandshakePattern Pattern { get; init; }

    /// <summary>Whether early data was delivered on this connection.</summary>
    public bool EarlyDataUsed { get; init; }

    /// <summary>Whether the connection can send and receive.</summary>
    public bool IsEstablished { get; init; }

    /// <summary>The address packets are sent to now.</summary>
    public required byte[] Address { get; init; }

    /// <summary>Whether the peer has proven it receives at <see cref="Address"/> (a handshake or a path challenge answered there).</summary>
    public bool AddressValidated { get; init; }

    /// <summary>When the keys in use were made (the time passed in), or null before any.</summary>
    public TimeSpan? LastHandshakeAt { get; init; }

    /// <summary>The age of the keys in use.</summary>
    public TimeSpan? KeyPairAge { get; init; }

    /// <summary>The smoothed round-trip time from handshakes and path challenges, or null before a sample.</summary>
    public TimeSpan? SmoothedRtt { get; init; }

    /// <summary>Authenticated packets received (keepalives included).</summary>
    public long PacketsIn { get; init; }

    /// <summary>Bytes of authenticated packets received.</summary>
    public long BytesIn { get; init; }

    /// <summary>Data packets sent (keepalives included).</summary>
    public long PacketsOut { get; init; }

    /// <summary>Bytes of Data packets sent.</summary>
    public long BytesOut { get; init; }

    /// <summary>Packets for this connection's sessions that failed authentication.</summary>
    public long AuthenticationFailures { get; init; }

    /// <summary>
    /// The fraction of the peer's packets under the current keys that never arrived (or have not yet): 1 − received ÷
    /// (highest counter + 1). Every packet carries a counter, so gaps are losses or reordering still in flight.
    /// </summary>
    public double EstimatedLoss { get; init; }

    /// <summary>The largest distance, in counters, by which a packet arrived behind the highest received.</summary>
    public ulong LargestReorderDepth { get; init; }
}
