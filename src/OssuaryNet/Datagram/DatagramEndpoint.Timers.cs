namespace OssuaryNet.Datagram;

/// <summary>
/// Timers: every deadline is derived from the connection's state and the times passed in; <see cref="NextTimeout"/> and
/// <see cref="HandleTimeout"/> read the same deadlines, so the first never names a time at which the second does nothing
/// forever.
/// </summary>
public sealed partial class DatagramEndpoint
{
    /// <summary>When <see cref="HandleTimeout"/> must next be called, or null when nothing is scheduled.</summary>
    public TimeSpan? NextTimeout()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TimeSpan? next = _halfOpen.NextExpiry();
        foreach (DatagramConnection connection in _connections.Values)
        {
            next = Earliest(next, Deadline(connection));
        }
        return next;
    }

    /// <summary>Runs every timer due at <paramref name="now"/>: retransmissions, keepalives, rekeys, expiries, path validation, close lingering.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is more than 1000 years from 0.</exception>
    public void HandleTimeout(TimeSpan now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckTime(now);
        now = Clamp(now);
        _halfOpen.Expire(now, _onHalfOpenExpired);
        _load.IsUnderLoad(now);
        _work.Clear();
        _work.AddRange(_connections.Values);
        foreach (DatagramConnection connection in _work)
        {
            if (_connections.ContainsKey(connection.Handle.Value))
            {
                RunTimers(connection, now);
            }
        }
        _work.Clear();
    }

    private static TimeSpan? Earliest(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>The earliest time at which <see cref="RunTimers"/> has something to do for <paramref name="c"/>.</summary>
    private TimeSpan? Deadline(DatagramConnection c)
    {
        if (c.Stage == DatagramConnectionStage.Closing)
        {
            return c.LingerUntil;
        }
        TimeSpan? next = null;
        if (c.Handshake is { AwaitingVerdict: false } handshake)
        {
            next = Earliest(next, handshake.NextRetransmitAt);
        }
        next = Earliest(next, c.Confirmation?.NextAt);
        if (c.UnusedNode is not null && _unusedTimeout is { } unused)
        {
            next = Earliest(next, c.CreatedAt + unused);
        }
        if (c.Current is { } current)
        {
            next = Earliest(next, current.Keys.CreatedAt + DatagramTimers.Idle);
        }
        // Previous and next keys are retired when they expire (written out, not iterated: this runs for every connection).
        if (c.Previous is { } previous)
        {
            next = Earliest(next, previous.Keys.CreatedAt + DatagramTimers.RejectAfterTime);
        }
        if (c.Next is { } pending)
        {
            next = Earliest(next, pending.Keys.CreatedAt + DatagramTimers.RejectAfterTime);
        }
        next = Earliest(next, c.KeepaliveDueAt);
        next = Earliest(next, c.DeadPeerAt);
        if (c.PathChallenge is not null)
        {
            next = Earliest(next, c.PathChallengeDeadline);
        }
        if (_persistentKeepalive is { } interval && c.Stage == DatagramConnectionStage.Established && c.Current is not null)
        {
            next = Earliest(next, c.LastSentAt + interval);
        }
        return next;
    }

    private void RunTimers(DatagramConnection c, TimeSpan now)
    {
        if (c.Stage == DatagramConnectionStage.Closing)
        {
            if (now >= c.LingerUntil)
            {
                RemoveConnection(c); // its Closed event was raised when the close began
            }
            return;
        }
        if (c.UnusedNode is not null && _unusedTimeout is { } unused && now - c.CreatedAt >= unused)
        {
            _statistics.ConnectionsUnused++;
            Expel(c, DatagramCloseCodes.Unused, DatagramCloseReason.Unused, now);
            return;
        }
        if (c.Handshake is { AwaitingVerdict: false } handshake && now >= handshake.NextRetransmitAt)
        {
            RetransmitOrAbandon(c, handshake, now);
            if (!_connections.ContainsKey(c.Handle.Value))
            {
                return;
            }
        }
        RetireExpiredSessions(c, now);
        if (c.Current is { } current && now - current.Keys.CreatedAt >= DatagramTimers.Idle)
        {
            if (!c.IsInitiator)
            {
                EndConnection(c, DatagramCloseReason.Idle);
                return;
            }
            // The initiator keeps the connection without keys: its next datagram starts a handshake.
            RetireSession(c.Previous);
            RetireSession(c.Current);
            c.Previous = c.Current = null;
            c.KeepaliveDueAt = c.DeadPeerAt = null;
            c.Confirmation = null;
        }
        if (c.Confirmation is { } confirmation && now >= confirmation.NextAt)
        {
            RepeatConfirmation(c, confirmation, now);
        }
        if (c.KeepaliveDueAt is { } keepalive && now >= keepalive)
        {
            c.KeepaliveDueAt = null;
            if (UsableSession(c, now) is { } session)
            {
                SendControl(c, session, DatagramContentType.Keepalive, default, now);
            }
        }
        if (c.DeadPeerAt is { } dead && now >= dead)
        {
            c.DeadPeerAt = null;
            if (MayStartHandshake(c))
            {
                StartHandshake(c, now);
            }
        }
        if (c.PathChallenge is not null && now >= c.PathChallengeDeadline)
        {
            PathChallengeTimedOut(c, now);
        }
        if (_persistentKeepalive is { } interval && c.Stage == DatagramConnectionStage.Established && now - c.LastSentAt >= interval)
        {
            if (UsableSession(c, now) is { } session)
            {
                SendControl(c, session, DatagramContentType.Keepalive, default, now);
            }
            else
            {
                c.LastSentAt = now; // no keys: try again one interval later rather than at every call
                if (MayStartHandshake(c))
                {
                    StartHandshake(c, now);
                }
            }
        }
    }

    /// <summary>
    /// The responder has not answered under the initiator's first keys yet: the confirmation goes again (the Finish, or
    /// a keepalive) while the responder may still hold the half-open handshake; after 15 s it has forgotten it, and a
    /// new handshake (IK, the key is known) replaces it.
    /// </summary>
    private void RepeatConfirmation(DatagramConnection c, FirstKeysConfirmation confirmation, TimeSpan now)
    {
        if (c.Current is { } keys && now - keys.Keys.CreatedAt < DatagramTimers.HalfOpenLifetime)
        {
            if (confirmation.Finish is { } finish)
            {
                Transmit(finish, c.Address);
            }
            else
            {
                SendControl(c, keys, DatagramContentType.Keepalive, default, now);
            }
            confirmation.Repeats++;
            confirmation.NextAt = now + DatagramTimers.RetransmitDelay(confirmation.Repeats) + Jitter();
            return;
        }
        c.Confirmation = null;
        if (MayStartHandshake(c))
        {
            StartHandshake(c, now);
        }
    }

    /// <summary>Drops expired previous and next sessions (a current one stays until the idle timer, to route late packets to a counted drop).</summary>
    private void RetireExpiredSessions(DatagramConnection c, TimeSpan now)
    {
        if (c.Previous is { } previous && previous.IsExpired(now))
        {
            RetireSession(previous);
            c.Previous = null;
        }
        if (c.Next is { } next && next.IsExpired(now))
        {
            RetireSession(next);
            c.Next = null;
        }
    }
}
