namespace OssuaryNet.Datagram;

/// <summary>
/// One key pair of a connection with the session ids that route it: packets to this side carry
/// <see cref="LocalId"/>, packets to the peer carry <see cref="RemoteId"/>. A connection holds at most three
/// (previous, current, next), as WireGuard does.
/// </summary>
internal sealed class DatagramSession : IDisposable
{
    public DatagramSession(DatagramConnection owner, DatagramKeyPair keys, uint localId, uint remoteId, bool confirmed)
    {
        Owner = owner;
        Keys = keys;
        LocalId = localId;
        RemoteId = remoteId;
        Confirmed = confirmed;
    }

    public DatagramConnection Owner { get; }

    public DatagramKeyPair Keys { get; }

    public uint LocalId { get; }

    public uint RemoteId { get; }

    /// <summary>
    /// Whether the peer is known to hold these keys: always for the initiator (the Response proved it); for the
    /// responder of IK, only once an authenticated packet arrived under them. An unconfirmed session never sends.
    /// </summary>
    public bool Confirmed { get; set; }

    /// <summary>IK responder: where the Response went; the first packet under these keys proves the peer receives there.</summary>
    public DatagramAddress AnsweredAt { get; init; }

    /// <summary>Authenticated packets received under these keys.</summary>
    public ulong PacketsReceived { get; set; }

    /// <summary>The largest distance by which a packet arrived behind the highest counter.</summary>
    public ulong LargestReorderDepth { get; set; }

    public bool IsExpired(TimeSpan now) => now - Keys.CreatedAt >= DatagramTimers.RejectAfterTime;

    /// <summary>1 − received ÷ (highest + 1); 0 before anything arrived.</summary>
    public double EstimatedLoss => PacketsReceived == 0 ? 0 : 1 - PacketsReceived / ((double)Keys.HighestReceived + 1);

    public void Dispose() => Keys.Dispose();
}
