using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Trust;
using OssuaryNet.Telemetry;

namespace OssuaryNet.Datagram;

/// <summary>
/// The responder's side of the handshakes: mac1 before anything, tokens and load before any Diffie-Hellman, the
/// half-open table, IK timestamps, the verdict, the answer, and key confirmation. Nothing a stranger sends buys more
/// than a half-open entry (bounded in total and per source) until it has proven that it holds the new keys and
/// receives where the Response went: only then is a connection made, counted and reported.
/// </summary>
public sealed partial class DatagramEndpoint
{
    /// <summary>
    /// An Initiation. In order, each step cheaper than the next: accepting at all → mac1 → a duplicate of one already
    /// answered (the same Response again, no DH) → the token and the load policy (a CookieReply, no DH, no state) →
    /// rate and table limits → the Noise message (DH) → for IK, the timestamp and the verdict.
    /// </summary>
    private void HandleInitiation(in ParsedDatagram initiation, in DatagramAddress from, TimeSpan now)
    {
        DatagramAddress source = _sources.SourceOf(from);
        if (!_acceptConnections)
        {
            Drop(DatagramDropReason.Unexpected);
            return;
        }
        // The post-quantum policy decides between the classical and the hybrid variant. Datagram mode has no refusal
        // message: a refused Initiation is dropped and counted, and its initiator does not fall back (docs/PROTOCOL.md 12.2).
        if (IsHybrid(initiation.Pattern) ? _postQuantum == OssuaryPostQuantum.Off : _postQuantum == OssuaryPostQuantum.Required)
        {
            Drop(DatagramDropReason.UnsupportedPattern);
            return;
        }
        if (!Mac1.Matches(IsXXFamily(initiation.Pattern) ? _mac1KeyXX : _mac1KeyOwn, initiation))
        {
            Drop(DatagramDropReason.BadMac1);
            return;
        }
        if (_halfOpen.TryGetByMac1(initiation.Mac, out HalfOpenHandshake? answered) && answered.Address.Equals(from))
        {
            if (answered.Response is { } response)
            {
                Transmit(response, from); // no larger than the Initiation it answers
            }
            else
            {
                Drop(DatagramDropReason.Duplicate); // its verdict is still awaited
            }
            return;
        }
        // A token that does not check out (damaged, expired, for another address) is counted and ignored: the
        // Initiation is then one without a token, which under load gets a fresh CookieReply rather than silence.
        bool addressProven = false;
        if (!initiation.Token.IsEmpty)
        {
            TokenVerdict verdict = _tokens.Check(initiation.Token, from.Bytes, initiation.SenderSession, now);
            if (verdict == TokenVerdict.Valid)
            {
                _statistics.TokensAccepted++;
                addressProven = true;
            }
            else
            {
                CountRejectedToken(verdict);
            }
        }
        bool underLoad = _validation switch
        {
            DatagramAddressValidation.Always => true,
            DatagramAddressValidation.UnderLoad => _load.NoteInitiation(now, _halfOpen.Pending),
            _ => false,
        };
        if (underLoad && !addressProven)
        {
            SendCookieReply(initiation, from, now);
            return;
        }
        if (underLoad && !_rateLimiter.TryTake(source, now))
        {
            Drop(DatagramDropReason.RateLimited);
            return;
        }
        if (!_halfOpen.HasRoomFor(source))
        {
            Drop(DatagramDropReason.TableFull);
            return;
        }
        // XX always makes a new connection: one that could not fit even by evicting is refused before any DH.
        if (IsXXFamily(initiation.Pattern) && _budget.Plan(_connections.Count, source, peer: null, _victims) is { } full)
        {
            Drop(full);
            return;
        }
        HandshakeState noise = NewHandshake(initiator: false, initiation.Pattern, default);
        uint initiatorId = initiation.SenderSession;
        if (!noise.TryReadMessage(initiation.NoiseMessage, _receiveScratch, out int payloadLength, out _)
            || (IsXXFamily(initiation.Pattern) && payloadLength != 0)
            || (!IsXXFamily(initiation.Pattern) && (payloadLength < IkPayloadPrefix
                || BinaryPrimitives.ReadUInt32LittleEndian(_receiveScratch.AsSpan(PeerTimestamps.TimestampSize)) != initiatorId)))
        {
            noise.Dispose();
            CryptographicOperations.ZeroMemory(_receiveScratch.AsSpan(0, Math.Max(0, payloadLength)));
            Drop(DatagramDropReason.HandshakeFailed);
            return;
        }
        var entry = new HalfOpenHandshake(NewLocalId(), initiation.SenderSession, from, source, HalfOpenTable.Mac1Key(initiation.Mac), initiation.Pattern, noise, now)
        {
            AddressProven = addressProven,
        };
        if (IsXXFamily(initiation.Pattern))
        {
            try
            {
                entry.Response = BuildResponse(noise, entry); // "ee" is the first DH on the initiator's ephemeral key
            }
            catch (OssuaryException)
            {
                entry.Dispose(); // a low-order ephemeral key
                Drop(DatagramDropReason.HandshakeFailed);
                return;
            }
            entry.Stage = HalfOpenStage.AwaitingFinish;
            _halfOpen.Add(entry);
            Transmit(entry.Response, from);
            return;
        }
        TakeIkInitiation(entry, _receiveScratch.AsSpan(0, payloadLength), now);
        CryptographicOperations.ZeroMemory(_receiveScratch.AsSpan(0, payloadLength));
    }

    /// <summary>
    /// IK, after the Initiation authenticated its sender's key: a replayed timestamp or a key that initiates too fast is
    /// refused before anything is created. An Initiation that names a live connection of that key here (by the id of
    /// its keys) rekeys it, with no new verdict; any other is a new connection, put to the caller, if one could fit
    /// (by evicting an unused one) for its source and key. One key may hold several connections.
    /// </summary>
    private void TakeIkInitiation(HalfOpenHandshake entry, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var peerKey = new OssuaryPublicKey(entry.Noise!.RemoteStaticPublicKey);
        ReadOnlySpan<byte> timestamp = payload[..PeerTimestamps.TimestampSize];
        if (_timestamps.Check(peerKey, timestamp, now) is { } refusal)
        {
            entry.Dispose();
            Drop(refusal);
            return;
        }
        entry.PeerKey = peerKey;
        ReadOnlySpan<byte> earlyData = payload[IkPayloadPrefix..];
        uint rekeyOf = BinaryPrimitives.ReadUInt32LittleEndian(payload[IkRekeyOfOffset..]);
        DatagramConnection? rekeyed = rekeyOf != 0 && _sessions.TryGetValue(rekeyOf, out DatagramSession? named)
            && named.Owner is { IsInitiator: false } existing && existing.Stage != DatagramConnectionStage.Closing && existing.PeerKey == peerKey
            ? existing
            : null;
        if (rekeyed is null && _budget.Plan(_connections.Count, entry.Source, peerKey, _victims) is { } full)
        {
            // A new connection that could not fit; its timestamp is not recorded, so a retransmission may still get in.
            entry.Dispose();
            Drop(full);
            return;
        }
        _timestamps.Record(peerKey, timestamp, now);
        if (rekeyed is not null)
        {
            entry.Rekeying = rekeyed;
            _halfOpen.Add(entry);
            if (!earlyData.IsEmpty)
            {
                _statistics.EarlyDataRefused++; // early data belongs to first contact
            }
            AnswerIk(entry, now);
            return;
        }
        if (!earlyData.IsEmpty)
        {
            if (_acceptEarlyData)
            {
                entry.EarlyData = earlyData.ToArray();
            }
            else
            {
                _statistics.EarlyDataRefused++;
            }
        }
        entry.Stage = HalfOpenStage.AwaitingVerdict;
        entry.PendingHandle = NewHandle();
        _halfOpen.Add(entry);
        _awaitingVerdict.Add(entry.PendingHandle.Value, entry);
        Raise(new DatagramEvent(DatagramEventKind.VerificationRequired, entry.PendingHandle));
    }

    private void SendCookieReply(in ParsedDatagram initiation, in DatagramAddress from, TimeSpan now)
    {
        Span<byte> token = stackalloc byte[AddressTokens.TokenSize];
        _tokens.Mint(from.Bytes, initiation.SenderSession, now, token);
        byte[] buffer = _transmit.Rent();
        int length = DatagramPacket.WriteCookieReply(buffer, initiation.SenderSession, initiation.Mac, token);
        if (Transmit(buffer, length, from))
        {
            _statistics.CookieRepliesSent++;
        }
    }

    private void CountRejectedToken(TokenVerdict verdict)
    {
        switch (verdict)
        {
            case TokenVerdict.Malformed:
                _statistics.TokensMalformed++;
                break;
            case TokenVerdict.Expired:
                _statistics.TokensExpired++;
                break;
            default:
                _statistics.TokensForged++;
                break;
        }
    }

    /// <summary>
    /// A Finish (XX message 3). To a half-open handshake: read transactionally (a forged one changes nothing), then the
    /// initiator's key is put to the caller. The Finish is the key confirmation of XX: only a peer that received the
    /// Response can write it. To a session already accepted: the same Finish again means the initiator missed the
    /// confirming keepalive, so one goes to the connection's address; anything else is unexpected.
    /// </summary>
    private void HandleFinish(in ParsedDatagram finish, ReadOnlySpan<byte> packet, in DatagramAddress from, TimeSpan now)
    {
        if (_halfOpen.TryGetByLocalId(finish.ReceiverSession, out HalfOpenHandshake? entry) && entry.Stage != HalfOpenStage.Answered)
        {
            if (entry.Stage != HalfOpenStage.AwaitingFinish)
            {
                Drop(DatagramDropReason.Duplicate);
                return;
            }
            if (_budget.Plan(_connections.Count, entry.Source, peer: null, _victims) is { } full)
            {
                Drop(full); // the entry waits: a place may free before it expires
                return;
            }
            if (!entry.Noise!.TryReadMessage(finish.NoiseMessage, _receiveScratch, out _, out _, static payload => payload.IsEmpty))
            {
                Drop(DatagramDropReason.HandshakeFailed);
                return;
            }
            entry.PeerKey = new OssuaryPublicKey(entry.Noise.RemoteStaticPublicKey);
            entry.AcceptedFinish = packet.ToArray();
            entry.FinishAddress = from;
            entry.Stage = HalfOpenStage.AwaitingVerdict;
            entry.PendingHandle = NewHandle();
            _awaitingVerdict.Add(entry.PendingHandle.Value, entry);
            Raise(new DatagramEvent(DatagramEventKind.VerificationRequired, entry.PendingHandle));
            return;
        }
        if (_sessions.TryGetValue(finish.ReceiverSession, out DatagramSession? session)
            && session.Owner.AcceptedFinish is { } accepted && CryptographicOperations.FixedTimeEquals(accepted, packet)
            && session.Owner.Stage == DatagramConnectionStage.Established && ReferenceEquals(session, session.Owner.Current))
        {
            SendControl(session.Owner, session, DatagramContentType.Keepalive, default, now);
            return;
        }
        Drop(_sessions.ContainsKey(finish.ReceiverSession) ? DatagramDropReason.Unexpected : DatagramDropReason.UnknownSession);
    }

    /// <summary>The caller's verdict on an initiator's key. Rejected: silence. Accepted: IK answers; XX makes the connection.</summary>
    private void ContinueAsResponder(HalfOpenHandshake entry, VerifiedPeer? verified, TimeSpan now)
    {
        if (verified is null)
        {
            _statistics.HandshakesRejected++;
            OssuaryTelemetry.DatagramHandshakeFailed(isInitiator: false, (OssuaryHandshakePattern)entry.Pattern, OssuaryErrorCode.PeerRejected);
            _halfOpen.Remove(entry);
            return;
        }
        if (!IsXXFamily(entry.Pattern))
        {
            AnswerIk(entry, now);
            return;
        }
        // Places may have gone while the verifier thought: the connection is made only if one can be found now.
        if (_budget.Plan(_connections.Count, entry.Source, verified.PublicKey, _victims) is { } full)
        {
            _halfOpen.Remove(entry);
            Drop(full); // counted as the drop of the Finish that would have made it
            return;
        }
        EvictVictims(now);
        var keys = new DatagramKeyPair(entry.TakeNoise()!.Split(), isInitiator: false, now);
        _halfOpen.MarkAnswered(entry);
        DatagramConnection connection = NewResponderConnection(entry, verified.PublicKey, (OssuaryHandshakePattern)entry.Pattern, entry.FinishAddress, now);
        connection.AcceptedFinish = entry.AcceptedFinish;
        connection.AddressValidated = true; // the Finish answered the Response sent there
        connection.ValidatedAddress = connection.Address;
        DatagramSession session = Establish(connection, keys, entry, now);
        SendControl(connection, session, DatagramContentType.Keepalive, default, now); // confirms the keys to the initiator
    }

    /// <summary>
    /// IK, after an accepting verdict: writes the Response and makes the keys. A rekey puts them in the connection's
    /// next slot, unconfirmed, leaving the live keys in use until a packet arrives under them. A first contact keeps
    /// them, with its early data, in the half-open entry: no connection exists until a packet under the keys confirms
    /// them (<see cref="ConfirmFirstContact"/>).
    /// </summary>
    private void AnswerIk(HalfOpenHandshake entry, TimeSpan now)
    {
        HandshakeState noise = entry.TakeNoise()!;
        entry.Response = BuildResponse(noise, entry);
        var keys = new DatagramKeyPair(noise.Split(), isInitiator: false, now);
        Transmit(entry.Response, entry.Address);
        if (entry.Rekeying is not { } connection)
        {
            entry.Keys = keys;
            entry.Stage = HalfOpenStage.AwaitingConfirmation; // still open: it counts against the caps and as load
            return;
        }
        _halfOpen.MarkAnswered(entry);
        var session = new DatagramSession(connection, keys, entry.LocalId, entry.InitiatorId, confirmed: false) { AnsweredAt = entry.Address };
        RetireSession(connection.Next);
        connection.Next = session;
        _sessions.Add(session.LocalId, session);
    }

    /// <summary>
    /// A Data packet under the keys of an answered first-contact IK handshake. Opened with the entry's keys (a forged
    /// or replayed one changes nothing); once it opens, the peer has proven that it holds the keys and that it received
    /// the Response, and only then is the connection made (if a place can be found: else the packet is dropped and the
    /// entry waits for a later one), reported, given its early data (flagged), and the packet taken as any other.
    /// </summary>
    private void ConfirmFirstContact(HalfOpenHandshake entry, in ParsedDatagram data, int packetLength, in DatagramAddress from, TimeSpan now)
    {
        Span<byte> inner = _receiveScratch.AsSpan(0, data.Ciphertext.Length - DatagramPacket.TagSize);
        if (!entry.Keys!.TryOpen(data, inner, out int innerLength, out DatagramDropReason reason))
        {
            Drop(reason);
            return;
        }
        inner = inner[..innerLength];
        if (_budget.Plan(_connections.Count, entry.Source, entry.PeerKey, _victims) is { } full)
        {
            CryptographicOperations.ZeroMemory(inner);
            Drop(full);
            return;
        }
        EvictVictims(now);
        DatagramConnection connection = NewResponderConnection(entry, entry.PeerKey!, (OssuaryHandshakePattern)entry.Pattern, entry.Address, now);
        // The peer received the Response at its address (it needed it to make these keys); a token proved it too.
        connection.AddressValidated = true;
        connection.ValidatedAddress = entry.Address;
        DatagramSession session = Establish(connection, entry.TakeKeys(), entry, now);
        _halfOpen.MarkAnswered(entry);
        if (entry.EarlyData is { } early)
        {
            _budget.MarkUsed(connection); // the peer's first datagram, now that its keys are confirmed
            if (Deliver(connection, early, DatagramReceiveFlags.EarlyData))
            {
                connection.EarlyDataUsed = true;
                _statistics.EarlyDataAccepted++;
            }
            CryptographicOperations.ZeroMemory(early);
            entry.EarlyData = null;
        }
        TakeAuthenticated(connection, session, data.Counter, first: true, highestBefore: 0, inner, packetLength, from, now);
        if (connection.PacketsOut == 0 && UsableSession(connection, now) is { } answer)
        {
            SendControl(connection, answer, DatagramContentType.Keepalive, default, now); // tells the initiator its keys are confirmed
        }
    }

    /// <summary>A responder's new connection becomes current on its confirmed keys: routed, counted and reported.</summary>
    private DatagramSession Establish(DatagramConnection connection, DatagramKeyPair keys, HalfOpenHandshake entry, TimeSpan now)
    {
        var session = new DatagramSession(connection, keys, entry.LocalId, entry.InitiatorId, confirmed: true);
        connection.Current = session;
        _sessions.Add(session.LocalId, session);
        connection.Stage = DatagramConnectionStage.Established;
        _statistics.HandshakesCompleted++;
        OssuaryTelemetry.DatagramHandshakeCompleted(isInitiator: false, connection.Pattern, _suite);
        Raise(new DatagramEvent(DatagramEventKind.Accepted, connection.Handle));
        return session;
    }

    /// <summary>
    /// Writes Noise message 2, whose payload is the responder's session id (bound to the handshake), and the Response
    /// packet around it. Throws <see cref="OssuaryException"/> for a low-order initiator ephemeral key.
    /// </summary>
    private static byte[] BuildResponse(HandshakeState noise, HalfOpenHandshake entry)
    {
        Span<byte> responderId = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(responderId, entry.LocalId);
        byte[] message = new byte[noise.GetMessageLength(responderId.Length)];
        noise.WriteMessage(responderId, message);
        byte[] response = new byte[14 + message.Length];
        DatagramPacket.WriteResponse(response, entry.Pattern, entry.LocalId, entry.InitiatorId, message);
        return response;
    }

    /// <summary>A responder's new connection, under the handle its verification request named, counted in the budget.</summary>
    private DatagramConnection NewResponderConnection(HalfOpenHandshake entry, OssuaryPublicKey peerKey, OssuaryHandshakePattern pattern, in DatagramAddress address, TimeSpan now)
    {
        var connection = new DatagramConnection(entry.PendingHandle, isInitiator: false, pattern, address, now, _buffers) { PeerKey = peerKey, Source = entry.Source };
        _connections.Add(connection.Handle.Value, connection);
        _budget.Add(connection);
        return connection;
    }

    /// <summary>
    /// A half-open handshake ran out of time. One whose handle the caller knows (a verdict was asked) tells it the
    /// handle is dead: awaiting the verdict, or answered and never confirmed.
    /// </summary>
    private void OnHalfOpenExpired(HalfOpenHandshake entry)
    {
        bool known = entry.Stage switch
        {
            HalfOpenStage.AwaitingVerdict => _awaitingVerdict.Remove(entry.PendingHandle.Value),
            HalfOpenStage.AwaitingConfirmation => true,
            _ => false,
        };
        if (entry.Stage == HalfOpenStage.AwaitingConfirmation)
        {
            _statistics.HandshakesUnconfirmed++;
        }
        if (known)
        {
            Raise(new DatagramEvent(DatagramEventKind.Closed, entry.PendingHandle) { CloseReason = DatagramCloseReason.HandshakeTimedOut });
        }
    }
}
