namespace OssuaryNet.Trust;

/// <summary>A verifier's decision on a peer: accept, or reject with a cause and a reason for the local user.</summary>
public readonly struct PeerVerdict
{
    private PeerVerdict(bool accepted, OssuaryErrorCode errorCode, string? reason, Exception? failure = null)
    {
        IsAccepted = accepted;
        ErrorCode = errorCode;
        Reason = reason;
        Failure = failure;
    }

    /// <summary>Whether the peer is accepted.</summary>
    public bool IsAccepted { get; }

    /// <summary>Why the peer was rejected (<see cref="OssuaryErrorCode.PeerRejected"/>, <see cref="OssuaryErrorCode.PeerKeyChanged"/> or <see cref="OssuaryErrorCode.PostQuantumDowngrade"/>).</summary>
    public OssuaryErrorCode ErrorCode { get; }

    /// <summary>A message for the local user; it is never sent to the peer.</summary>
    public string? Reason { get; }

    /// <summary>The verifier's own exception, when the verdict stands for a verifier that failed.</summary>
    internal Exception? Failure { get; }

    /// <summary>Accept the peer.</summary>
    public static PeerVerdict Accept() => new(true, default, null);

    /// <summary>Reject the peer.</summary>
    public static PeerVerdict Reject(string reason) => new(false, OssuaryErrorCode.PeerRejected, reason);

    /// <summary>Reject the peer because its key differs from the one recorded for its endpoint.</summary>
    public static PeerVerdict KeyChanged(string reason) => new(false, OssuaryErrorCode.PeerKeyChanged, reason);

    /// <summary>Reject a classical handshake from a peer on record as speaking the post-quantum hybrid one.</summary>
    public static PeerVerdict PostQuantumDowngrade(string reason) => new(false, OssuaryErrorCode.PostQuantumDowngrade, reason);

    /// <summary>A verifier that threw: the peer is rejected, and the exception is kept as the failure's cause.</summary>
    public static PeerVerdict VerifierFailed(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new(false, OssuaryErrorCode.PeerRejected, $"The peer verifier failed: {exception.Message}", exception);
    }
}
