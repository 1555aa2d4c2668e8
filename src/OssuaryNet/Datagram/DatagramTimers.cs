namespace OssuaryNet.Datagram;

/// <summary>
/// The timer constants of datagram mode (WireGuard's, with this protocol's handshake schedule). Every deadline is
/// computed from the <c>now</c> the caller passes in; the endpoint never reads a clock.
/// </summary>
internal static class DatagramTimers
{
    /// <summary>The initiator starts a new handshake when it sends on keys older than this.</summary>
    public static readonly TimeSpan RekeyAfterTime = TimeSpan.FromSeconds(120);

    /// <summary>…and when it receives on keys older than this (REJECT − KEEPALIVE − REKEY_TIMEOUT), so that a peer that only listens rekeys in time.</summary>
    public static readonly TimeSpan RekeyOnReceiveAfter = TimeSpan.FromSeconds(165);

    /// <summary>Keys older than this are used for nothing, either way.</summary>
    public static readonly TimeSpan RejectAfterTime = TimeSpan.FromSeconds(180);

    /// <summary>The initiator rekeys once its send counter reaches this.</summary>
    public const ulong RekeyAfterMessages = 1UL << 60;

    /// <summary>An initiator abandons a handshake that got no answer for this long.</summary>
    public static readonly TimeSpan HandshakeGiveUp = TimeSpan.FromSeconds(90);

    /// <summary>The largest random delay added to each handshake retransmission.</summary>
    public static readonly TimeSpan MaxJitter = TimeSpan.FromMilliseconds(333);

    /// <summary>A keepalive goes out when something was received and nothing sent for this long.</summary>
    public static readonly TimeSpan Keepalive = TimeSpan.FromSeconds(10);

    /// <summary>Data sent and nothing authenticated received for this long (plus jitter): the initiator handshakes again.</summary>
    public static readonly TimeSpan DeadPeer = TimeSpan.FromSeconds(15);

    /// <summary>With no handshake for this long, the keys are wiped and the connection closed.</summary>
    public static readonly TimeSpan Idle = TimeSpan.FromSeconds(540);

    /// <summary>How long a closed connection repeats its close (once per incoming packet) and drains silently.</summary>
    public static readonly TimeSpan CloseLinger = TimeSpan.FromSeconds(3);

    /// <summary>How long a responder keeps a half-open handshake.</summary>
    public static readonly TimeSpan HalfOpenLifetime = TimeSpan.FromSeconds(15);

    /// <summary>IK Initiations one static key may have consumed: a burst of 8, then one more per this interval (50 per second).</summary>
    public static readonly TimeSpan MinInitiationInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How long an endpoint stays under load after the last sign of it.</summary>
    public static readonly TimeSpan LoadLinger = TimeSpan.FromSeconds(1);

    /// <summary>Datagrams held per connection while a handshake runs.</summary>
    public const int SendQueueLimit = 16;

    /// <summary>Path challenges sent before the peer's address reverts to the last validated one.</summary>
    public const int PathChallengeAttempts = 3;

    /// <summary>The delay before handshake retransmission <paramref name="attempt"/> (1, 2, 4, then 5 s), before jitter.</summary>
    public static TimeSpan RetransmitDelay(int attempt) => attempt switch
    {
        0 => TimeSpan.FromSeconds(1),
        1 => TimeSpan.FromSeconds(2),
        2 => TimeSpan.FromSeconds(4),
        _ => TimeSpan.FromSeconds(5),
    };

    /// <summary>The delay before path challenge <paramref name="attempt"/> counts as failed (1, 2, 4 s).</summary>
    public static TimeSpan PathChallengeDelay(int attempt) => TimeSpan.FromSeconds(1 << Math.Min(attempt, 2));
}
