namespace OssuaryNet.Phases;

/// <summary>
/// Where a connection is in its life. A connection holds exactly one phase value; each phase holds only what that
/// phase needs (no key exists before it is derived, no transport before a verified peer), and handling input in a
/// phase yields the next phase:
/// <code>
///   server: AwaitingFirstMessage -> Handshaking (XX) -> AwaitingVerdict -> Established
///                                -> AwaitingVerdict (IK)                 -> Established
///   client: Handshaking -> AwaitingVerdict -> Established
///   any phase -> Failed (for good)
/// </code>
/// </summary>
internal abstract class ConnectionPhase
{
}
