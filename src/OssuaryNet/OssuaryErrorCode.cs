namespace OssuaryNet;

/// <summary>
/// Every reason an OssuaryNet operation can fail. The numeric values are part of the wire protocol (they are
/// sent in clear handshake alerts) and of the C ABI (negated, they are its status codes), so they never change.
/// </summary>
public enum OssuaryErrorCode
{
    /// <summary>A frame's length prefix or layout is invalid (zero length, or a body that cannot be parsed).</summary>
    MalformedFrame = 1,
    /// <summary>A handshake message, its clear header or its extensions could not be parsed.</summary>
    MalformedHandshake = 2,
    /// <summary>A message failed authenticated decryption: it was tampered with, replayed, reordered, from another session, or the peer holds other keys.</summary>
    AuthenticationFailed = 3,
    /// <summary>A message arrived that is not allowed in the current state (e.g. data before the handshake ended).</summary>
    UnexpectedMessage = 4,
    /// <summary>The peer speaks a protocol version this implementation does not.</summary>
    UnsupportedVersion = 5,
    /// <summary>The peer asked for a cipher suite this side does not allow.</summary>
    UnsupportedSuite = 6,
    /// <summary>The peer asked for a handshake pattern this side does not allow.</summary>
    UnsupportedPattern = 7,
    /// <summary>The peer sent a critical extension this side does not understand.</summary>
    UnsupportedExtension = 8,
    /// <summary>This side's peer verifier rejected the peer's static key, or the peer rejected ours.</summary>
    PeerRejected = 9,
    /// <summary>The peer's static key differs from the one recorded for its endpoint (trust on first use).</summary>
    PeerKeyChanged = 10,
    /// <summary>The transport ended without an authenticated close: the stream may have been cut short by an attacker.</summary>
    Truncated = 11,
    /// <summary>A record is larger than the limit this side announced.</summary>
    RecordTooLarge = 12,
    /// <summary>Retired: sending after this side's close is a caller's mistake, an <see cref="InvalidOperationException"/>. The number stays reserved (C status -13).</summary>
    Closed = 13,
    /// <summary>A cipher's 64-bit nonce space is used up; the connection must be replaced.</summary>
    NonceExhausted = 14,
    /// <summary>A key is malformed or a low-order point (an X25519 result of zero).</summary>
    InvalidKey = 15,
    /// <summary>A private key file is readable or writable by group or others and was refused.</summary>
    KeyFilePermissions = 16,
    /// <summary>A key, known-hosts or authorized-keys file could not be read, parsed or written.</summary>
    KeyFileInvalid = 17,
    /// <summary>No application protocol offered by one side is supported by the other.</summary>
    NoApplicationProtocol = 18,
    /// <summary>The initiator sent early data and the responder does not accept it.</summary>
    EarlyDataRejected = 19,
    /// <summary>The handshake did not finish in the time allowed.</summary>
    HandshakeTimeout = 20,
    /// <summary>The caller used the API in a way that is not allowed (bad argument, wrong role, wrong state).</summary>
    InvalidOperation = 21,
    /// <summary>An unexpected internal failure (e.g. libsodium could not be initialised).</summary>
    InternalError = 22,
    /// <summary>Nothing was received from the peer for longer than the stream's idle timeout (local only).</summary>
    IdleTimeout = 23,
    /// <summary>
    /// A peer that has spoken the post-quantum hybrid handshake before (its trust store says so), or a policy of
    /// <see cref="OssuaryPostQuantum.Required"/>, met a classical one: someone on the path may be stripping the
    /// post-quantum protection. Sent to the peer as <c>PeerRejected</c>.
    /// </summary>
    PostQuantumDowngrade = 24,
}
