namespace OssuaryNet.Protocol;

/// <summary>Which failure sends which alert, and what a received alert means (docs/PROTOCOL.md section 6).</summary>
internal static class Alerts
{
    /// <summary>
    /// The alert a side sends for a failure during its handshake, or null for failures that are local (the transport
    /// ended, a timer, a caller's mistake) or the peer's own alert. A rejected or changed key is reported as
    /// <see cref="AlertCode.PeerRejected"/>: the local reason, with file names and fingerprints, stays local.
    /// </summary>
    public static AlertCode? For(OssuaryException error)
    {
        if (error.IsPeerAlert)
        {
            return null;
        }
        OssuaryErrorCode code = error.ErrorCode is OssuaryErrorCode.PeerKeyChanged or OssuaryErrorCode.PostQuantumDowngrade ? OssuaryErrorCode.PeerRejected : error.ErrorCode;
        return IsDefined((byte)code) ? (AlertCode)(byte)code : null;
    }

    public static bool IsDefined(byte value) => Enum.IsDefined((AlertCode)value);

    /// <summary>The failure a received alert frame body (kind byte and code) stands for.</summary>
    /// <param name="body">The alert frame's body.</param>
    /// <param name="proposed">For a client, the pattern its first message proposed: a refusal of it then says whether
    /// the post-quantum hybrid handshake (or the classical one) was what the server refused.</param>
    /// <param name="peer">The peer's endpoint name, when known.</param>
    public static OssuaryException Received(ReadOnlySpan<byte> body, OssuaryHandshakePattern? proposed = null, string? peer = null)
    {
        if (body.Length != 2 || !IsDefined(body[1]))
        {
            return new OssuaryException(OssuaryErrorCode.MalformedHandshake,
                body.Length == 2 ? $"The peer sent an alert with code {body[1]}, which is never sent in an alert." : "The peer sent a malformed alert.") { IsPeerAlert = true };
        }
        var code = (AlertCode)body[1];
        string message = code switch
        {
            AlertCode.PeerRejected => "The peer rejected this side's identity (its peer verifier did not accept our key).",
            AlertCode.UnsupportedVersion => "The peer does not support protocol version 1.",
            AlertCode.UnsupportedSuite => "The peer does not allow the proposed cipher suite.",
            AlertCode.UnsupportedPattern => proposed switch
            {
                { } hybrid when hybrid.IsHybrid() =>
                    $"{PrintableText.Escape(peer ?? "The peer")} refused the post-quantum hybrid handshake ({hybrid}): it offers only classical handshakes, or has post-quantum turned off.",
                { } classical =>
                    $"{PrintableText.Escape(peer ?? "The peer")} refused the classical handshake ({classical}): it requires the post-quantum hybrid one, or does not allow {classical}.",
                null => "The peer does not allow the proposed handshake pattern.",
            },
            AlertCode.AuthenticationFailed => "The peer could not authenticate our handshake message (if a server key is pinned, the server may hold another key).",
            AlertCode.EarlyDataRejected => "The peer does not accept early data.",
            AlertCode.NoApplicationProtocol => "The peer shares no application protocol with this side.",
            _ => $"The peer aborted the handshake ({code}).",
        };
        // Alerts are unauthenticated: anyone on the path can forge one, but all it can do is end the handshake.
        return new OssuaryException((OssuaryErrorCode)(byte)code, message) { IsPeerAlert = true };
    }
}
