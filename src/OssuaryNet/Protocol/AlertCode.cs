namespace OssuaryNet.Protocol;

/// <summary>
/// The codes a clear handshake alert carries on the wire (docs/PROTOCOL.md section 6). A protocol type of its own:
/// only these values are ever sent or accepted, whatever local error codes exist. Each value equals the
/// <see cref="OssuaryErrorCode"/> a receiver reports for it, so wire protocol v1 is unchanged.
/// </summary>
internal enum AlertCode : byte
{
    MalformedFrame = 1,
    MalformedHandshake = 2,
    AuthenticationFailed = 3,
    UnexpectedMessage = 4,
    UnsupportedVersion = 5,
    UnsupportedSuite = 6,
    UnsupportedPattern = 7,
    UnsupportedExtension = 8,
    PeerRejected = 9,
    InvalidKey = 15,
    NoApplicationProtocol = 18,
    EarlyDataRejected = 19,
}
