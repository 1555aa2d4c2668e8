using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Telemetry;

namespace OssuaryNet.Datagram;

/// <summary>Data packets: the receive order that lets nothing forged change anything, sending, roaming and closing.</summary>
public sealed partial class DatagramEndpoint
{
    /// <summary>
    /// A Data packet, in the order of CVE-2024-58265's lesson: session id → key pair alive → counter limit and
    /// read-only window check → AEAD open with the header as associated data → (on failure: drop, count, nothing else)
    /// → window commit → only now: timers, key confirmation, the peer's address, statistics, delivery.
    /// </summary>
    private void HandleData(in ParsedDatagram data, int packetLength, in DatagramAddress from, TimeSpan now)
    {
        if (!_sessions.TryGetValue(data.ReceiverSession, out DatagramSession? session))
        {
            if (_halfOpen.TryGetByLocalId(data.ReceiverSession, out HalfOpenHandshake? answered) && answered.Stage == HalfOpenStage.AwaitingConfirmation)
            {
                ConfirmFirstContact(answered, data, packetLength, from, now);
                return;
            }
            Drop(DatagramDropReason.UnknownSession);
            return;
        }
        DatagramConnection connection = session.Owner;
        if (connection.Stage == DatagramConnectionStage.Closing && connection.ClosedByPeer)
        {
            Drop(DatagramDropReason.Unexpected); // the peer closed: drain silently
            return;
        }
        if (session.IsExpired(now))
        {
            Drop(DatagramDropReason.ExpiredKeyPair);
            return;
        }
        ulong highestBefore = session.Keys.HighestReceived;
        bool first = session.PacketsReceived == 0;
        Span<byte> inner = _receiveScratch.AsSpan(0, data.Ciphertext.Length - DatagramPacket.TagSize);
        if (!session.Keys.TryOpen(data, inner, out int innerLength, out DatagramDropReason reason))
        {
            if (reason == DatagramDropReason.AuthenticationFailed)
            {
                connection.AuthenticationFailures++;
            }
            Drop(reason);
            return;
        }
        TakeAuthenticated(connection, session, data.Counter, first, highestBefore, inner[..innerLength], packetLength, from, now);
    }

    /// <summary>
    /// The second half of <see cref="HandleData"/>: a packet that opened under <paramref name="session"/> and whose
    /// counter the replay window has recorded. From here on it may change state. <paramref name="inner"/> is wiped.
    /// </summary>
    private void TakeAuthenticated(DatagramConnection connection, DatagramSession session, ulong counter, bool first, ulong highestBefore, Span<byte> inner, int packetLength, in DatagramAddress from, TimeSpan now)
    {
        if (connection.Stage == DatagramConnectionStage.Closing)
        {
            // This side closed and the peer did not hear it: one close again per authentic packet, never more, and
            // never in answer to a close (two sides that both closed would otherwise answer each other for ever).
            bool isClose = DatagramInner.TryRead(inner, out DatagramContentType closingType, out _) && closingType == DatagramContentType.Close;
            CryptographicOperations.ZeroMemory(inner);
            Drop(DatagramDropReason.Unexpected);
            if (!isClose && UsableSession(connection, now) is { } closing)
            {
                SendClose(connection, closing, now);
            }
            return;
        }
        bool newest = first || counter > highestBefore;
        session.PacketsReceived++;
        if (!newest)
        {
            session.LargestReorderDepth = Math.Max(session.LargestReorderDepth, highestBefore - counter);
        }
        connection.PacketsIn++;
        connection.BytesIn += packetLength;
        connection.LastReceivedAt = now;
        connection.DeadPeerAt = null;
        if (!DatagramInner.TryRead(inner, out DatagramContentType type, out ReadOnlySpan<byte> content))
        {
            CryptographicOperations.ZeroMemory(inner);
            Drop(DatagramDropReason.Malformed);
            return;
        }
        ConfirmSession(connection, session, now);
        bool moved = newest && ReferenceEquals(session, connection.Current) && FollowPeer(connection, from, packetLength, now);
        if (!moved && !connection.AddressValidated && connection.Address.Equals(from))
        {
            connection.BytesFromUnvalidated += packetLength;
        }
        if (type != DatagramContentType.Keepalive)
        {
            connection.KeepaliveDueAt ??= now + DatagramTimers.Keepalive;
        }
        if (MayStartHandshake(connection) && ReferenceEquals(session, connection.Current)
            && now - session.Keys.CreatedAt >= DatagramTimers.RekeyOnReceiveAfter)
        {
            StartHandshake(connection, now);
        }
        switch (type)
        {
            case DatagramContentType.Keepalive when RepeatsConfirmation(connection, session, now) && UsableSession(connection, now) is { } answer:
                SendControl(connection, answer, DatagramContentType.Keepalive, default, now); // the confirming keepalive was lost
                break;
            case DatagramContentType.Datagram:
                _budget.MarkUsed(connection);
                Deliver(connection, content, DatagramReceiveFlags.None);
                break;
            case DatagramContentType.Close:
                connection.ClosedByPeer = true;
                BeginLinger(connection, now);
                Raise(new DatagramEvent(DatagramEventKind.Closed, connection.Handle)
                {
                    CloseReason = DatagramCloseReason.ByPeer,
                    PeerCloseCode = BinaryPrimitives.ReadUInt16LittleEndian(content),
                });
                break;
            case DatagramContentType.PathChallenge:
                if (UsableSession(connection, now) is { } reply)
                {
                    SendControl(connection, reply, DatagramContentType.PathResponse, content, now, to: from);
                }
                break;
            case DatagramContentType.PathResponse:
                if (connection.PathChallenge is { } challenge && CryptographicOperations.FixedTimeEquals(challenge, content))
                {
                    connection.AddRttSample(now - connection.PathChallengeSentAt);
                    MarkValidated(connection, now);
                }
                break;
        }
        CryptographicOperations.ZeroMemory(inner);
    }

    /// <summary>
    /// Whether a keepalive from the initiator may be its repeated confirmation of a responder's first keys (it repeats
    /// one until a packet from the responder arrives under them, for 15 s): such a keepalive is answered by one.
    /// </summary>
    private static bool RepeatsConfirmation(DatagramConnection connection, DatagramSession session, TimeSpan now) =>
        !connection.IsInitiator && connection.Previous is null && ReferenceEquals(session, connection.Current)
        && now - session.Keys.CreatedAt < DatagramTimers.HalfOpenLifetime;

    /// <summary>Queues a datagram for the application (Readable when the queue stops being empty); false, and counted, when the queue is full.</summary>
    private bool Deliver(DatagramConnection connection, ReadOnlySpan<byte> content, DatagramReceiveFlags flags)
    {
        bool wasEmpty = !connection.HasReceived;
        if (!connection.EnqueueReceived(content, flags, _receiveQueueLimit))
        {
            Drop(DatagramDropReason.ReceiveQueueFull);
            return false;
        }
        if (wasEmpty)
        {
            Raise(new DatagramEvent(DatagramEventKind.Readable, connection.Handle));
        }
        return true;
    }

    /// <summary>
    /// A packet authenticated under a session confirms it. The XX initiator's Finish is no longer repeated, and its
    /// first keys, held back until the responder's verdict let a packet through, become usable: only now is the
    /// connection reported as connected and held datagrams sent. A responder's unconfirmed next session (an IK rekey)
    /// becomes current.
    /// </summary>
    private void ConfirmSession(DatagramConnection connection, DatagramSession session, TimeSpan now)
    {
        if (ReferenceEquals(session, connection.Current))
        {
            connection.Confirmation = null;
        }
        if (session.Confirmed)
        {
            return;
        }
        session.Confirmed = true;
        if (ReferenceEquals(session, connection.Next))
        {
            RetireSession(connection.Previous);
            connection.Previous = connection.Current;
            connection.Current = session;
            connection.Next = null;
            _statistics.HandshakesCompleted++;
            _statistics.Rekeys++;
            OssuaryTelemetry.DatagramHandshakeCompleted(connection.IsInitiator, connection.Pattern, _suite);
        }
        else if (connection.IsInitiator && connection.Stage == DatagramConnectionStage.Connecting && ReferenceEquals(session, connection.Current))
        {
            connection.Stage = DatagramConnectionStage.Established;
            Raise(new DatagramEvent(DatagramEventKind.Connected, connection.Handle));
        }
        FlushHeld(connection, now);
    }

    /// <summary>
    /// Roaming: the newest authenticated packet of the current keys came from a new address, so the peer is there now.
    /// The new address is unvalidated until a path challenge is answered from it; meanwhile this side sends at most 3×
    /// what it received from there.
    /// </summary>
    private bool FollowPeer(DatagramConnection connection, in DatagramAddress from, int packetLength, TimeSpan now)
    {
        if (!_allowRoaming || connection.Address.Equals(from))
        {
            return false;
        }
        connection.Address = from;
        _statistics.RoamingEvents++;
        Raise(new DatagramEvent(DatagramEventKind.PeerMoved, connection.Handle));
        if (connection.ValidatedAddress.Equals(from))
        {
            connection.AddressValidated = true;
            CancelPathChallenge(connection);
            return true;
        }
        connection.AddressValidated = false;
        connection.BytesFromUnvalidated = packetLength;
        connection.BytesToUnvalidated = 0;
        byte[] challenge = new byte[DatagramInner.PathDataSize];
        _random.Fill(challenge);
        connection.PathChallenge = challenge;
        connection.PathChallengesSent = 0;
        SendPathChallenge(connection, now);
        return true;
    }

    private void SendPathChallenge(DatagramConnection connection, TimeSpan now)
    {
        if (UsableSession(connection, now) is not { } session)
        {
            return;
        }
        connection.PathChallengeSentAt = now;
        connection.PathChallengeDeadline = now + DatagramTimers.PathChallengeDelay(connection.PathChallengesSent);
        connection.PathChallengesSent++;
        if (WithinAmplificationLimit(connection, DataPacketSize(DatagramInner.PathDataSize))) // a retry that would break the 3× limit is skipped, its attempt still counted
        {
            SendControl(connection, session, DatagramContentType.PathChallenge, connection.PathChallenge, now);
        }
    }

    /// <summary>A path challenge went unanswered: try again, or after the third go back to the last validated address.</summary>
    private void PathChallengeTimedOut(DatagramConnection connection, TimeSpan now)
    {
        if (connection.PathChallengesSent < DatagramTimers.PathChallengeAttempts)
        {
            SendPathChallenge(connection, now);
            return;
        }
        CancelPathChallenge(connection);
        if (!connection.ValidatedAddress.IsEmpty)
        {
            connection.Address = connection.ValidatedAddress;
            connection.AddressValidated = true;
            Raise(new DatagramEvent(DatagramEventKind.PeerMoved, connection.Handle));
            FlushHeld(connection, now);
        }
    }

    private static void CancelPathChallenge(DatagramConnection connection)
    {
        connection.PathChallenge = null;
        connection.PathChallengesSent = 0;
    }

    private void MarkValidated(DatagramConnection connection, TimeSpan now)
    {
        connection.AddressValidated = true;
        connection.ValidatedAddress = connection.Address;
        CancelPathChallenge(connection);
        FlushHeld(connection, now);
    }

    /// <summary>The session to send on: current, confirmed and not expired; null when there is none.</summary>
    private static DatagramSession? UsableSession(DatagramConnection connection, TimeSpan now) =>
        connection.Current is { Confirmed: true } current && !current.IsExpired(now) && current.Keys.NextSendCounter < DatagramKeyPair.MessageLimit
            ? current
            : null;

    /// <summary>Seals an application datagram, or holds it (no usable keys yet, or the 3× limit of an unvalidated address).</summary>
    private DatagramSendResult SendDatagram(DatagramConnection connection, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        DatagramSession? session = UsableSession(connection, now);
        if (session is null && MayStartHandshake(connection) && connection.Stage == DatagramConnectionStage.Established)
        {
            StartHandshake(connection, now); // keys expired or wiped: this datagram waits for new ones
        }
        if (session is null || !WithinAmplificationLimit(connection, DataPacketSize(payload.Length)))
        {
            if (!connection.EnqueueSend(payload))
            {
                _statistics.QueuedDatagramsDropped++;
            }
            return DatagramSendResult.Queued;
        }
        SendControl(connection, session, DatagramContentType.Datagram, payload, now);
        return DatagramSendResult.Sent;
    }

    /// <summary>The size of the Data packet that carries <paramref name="contentLength"/> bytes of content (no padding).</summary>
    private static int DataPacketSize(int contentLength) => DatagramKeyPair.PacketSize(DatagramInner.Length(contentLength, 0));

    private static bool WithinAmplificationLimit(DatagramConnection connection, int packetLength) =>
        connection.AddressValidated || connection.BytesToUnvalidated + packetLength <= 3 * connection.BytesFromUnvalidated;

    /// <summary>Sends the held datagrams that can go now; returns how many went.</summary>
    private int FlushHeld(DatagramConnection connection, TimeSpan now)
    {
        int sent = 0;
        while (UsableSession(connection, now) is { } session && connection.SendQueueLength > 0)
        {
            connection.TryDequeueSend(out byte[] buffer, out int length);
            try
            {
                if (!WithinAmplificationLimit(connection, DataPacketSize(length)))
                {
                    connection.EnqueueSend(buffer.AsSpan(0, length)); // back in line; validation will flush it
                    break;
                }
                SendControl(connection, session, DatagramContentType.Datagram, buffer.AsSpan(0, length), now);
                sent++;
            }
            finally
            {
                connection.ReturnBuffer(buffer, length);
            }
        }
        return sent;
    }

    private void SendClose(DatagramConnection connection, DatagramSession session, TimeSpan now)
    {
        Span<byte> code = stackalloc byte[DatagramInner.CloseContentSize];
        BinaryPrimitives.WriteUInt16LittleEndian(code, connection.LocalCloseCode);
        SendControl(connection, session, DatagramContentType.Close, code, now);
    }

    /// <summary>
    /// Seals one Data packet on <paramref name="session"/> to the peer's address (or <paramref name="to"/>) and queues
    /// it. The timers move as WireGuard's: sending anything cancels a due keepalive; sending data starts the dead-peer
    /// clock if it is not running.
    /// </summary>
    private void SendControl(DatagramConnection connection, DatagramSession session, DatagramContentType type, ReadOnlySpan<byte> content, TimeSpan now, DatagramAddress to = default)
    {
        int innerLength = type == DatagramContentType.Keepalive ? 0 : DatagramInner.Length(content.Length, 0);
        Span<byte> inner = _sendScratch.AsSpan(0, innerLength);
        if (type != DatagramContentType.Keepalive)
        {
            DatagramInner.Write(type, content, inner);
        }
        byte[] buffer = _transmit.Rent();
        bool sealedPacket = session.Keys.TrySeal(session.RemoteId, inner, buffer, out int length);
        CryptographicOperations.ZeroMemory(inner);
        if (!sealedPacket)
        {
            _transmit.Return(buffer);
            return;
        }
        DatagramAddress destination = to.IsEmpty ? connection.Address : to;
        if (!Transmit(buffer, length, destination))
        {
            return;
        }
        connection.PacketsOut++;
        connection.BytesOut += length;
        connection.LastSentAt = now;
        connection.KeepaliveDueAt = null;
        if (!connection.AddressValidated && destination.Equals(connection.Address))
        {
            connection.BytesToUnvalidated += length;
        }
        if (type == DatagramContentType.Datagram)
        {
            connection.DeadPeerAt ??= now + DatagramTimers.DeadPeer + Jitter();
        }
        if (type != DatagramContentType.Close)
        {
            KeepKeysFresh(connection, session, now);
        }
    }

    /// <summary>As WireGuard: an initiator that sends anything on keys older than 120 s, or near the message limit, starts a new handshake (the packet still goes on the old keys).</summary>
    private void KeepKeysFresh(DatagramConnection connection, DatagramSession session, TimeSpan now)
    {
        if (MayStartHandshake(connection) && connection.Stage == DatagramConnectionStage.Established && ReferenceEquals(session, connection.Current)
            && (now - session.Keys.CreatedAt >= DatagramTimers.RekeyAfterTime || session.Keys.NextSendCounter >= DatagramTimers.RekeyAfterMessages))
        {
            StartHandshake(connection, now);
        }
    }
}
