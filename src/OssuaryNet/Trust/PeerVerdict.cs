namespace OssuaryNet.Trust;

/// <summary>A verifier's decision on a peer: accept, or reject with a cause and a reason for the local user.</summary>
public readonly struct PeerVerdict
{
    private PeerVerdict(bool accepted, OssuaryErrorCode errorCode, string? reason)
    {
        IsAccepted = accepted;
        ErrorCode = errorCode;
        Reason = reason;
    }

    /// <summary>Whether the peer is accepted.</summary>
    public bool IsAccepted { get; }

    /// <summary>Why the peer was rejected (<see cref="OssuaryErrorCode.PeerRejected"/> or <see cref="OssuaryErrorCode.PeerKeyChanged"/>).</summary>
    public OssuaryErrorCode ErrorCode { get; }

    /// <summary>A message for the local user; it is never sent to the peer.</summary>
    public string? Reason { get; }

    /// <summary>Accept the peer.</summary>
    public static PeerVerdict Accept() => new(true, default, null);

    /// <summary>Reject the peer.</summary>
    public static PeerVerdict Reject(string reason) => new(false, OssuaryErrorCode.PeerRejected, reason);

    /// <summary>Reject the peer because its key differs from the one recorded for its endpoint.</summary>
    public static PeerVerdict KeyChanged(string reason) => new(false, OssuaryErrorCode.PeerKeyChanged, reason);
}
