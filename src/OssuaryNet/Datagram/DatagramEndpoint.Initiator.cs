using System.Buffers.Binary;
using System.Security.Cryptography;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Trust;
using OssuaryNet.Telemetry;

namespace OssuaryNet.Datagram;

/// <summary>The initiator's side of the handshakes: Initiation, CookieReply, Response, Finish, and their retransmission.</summary>
public sealed partial class DatagramEndpoint
{
    /// <summary>
    /// Starts a handshake on <paramref name="connection"/>: IK when the peer's key is known (always for rekeys), XX
    /// otherwise. The Initiation is kept byte for byte: every retransmission repeats it.
    /// </summary>
    private void StartHandshake(DatagramConnection connection, TimeSpan now, ReadOnlySpan<byte> earlyData = default)
    {
        byte pattern = InitiatorPattern(knowsKey: connection.PeerKey is not null);
        uint localId = NewLocalId();
        HandshakeState noise = NewHandshake(initiator: true, pattern, connection.PeerKey is { } key ? key.Bytes : default);
        byte[] message;
        byte[] mac1Key;
        try
        {
            Span<byte> payload = stackalloc byte[IkPayloadPrefix + earlyData.Length];
            if (!IsXXFamily(pattern))
            {
                PeerTimestamps.Write(NextTimestamp(now), payload);
                BinaryPrimitives.WriteUInt32LittleEndian(payload[PeerTimestamps.TimestampSize..], localId);
                // A rekey names the connection it renews by the responder's id of its keys; a first contact names none.
                uint rekeyOf = (connection.Current ?? connection.Previous)?.RemoteId ?? 0;
                BinaryPrimitives.WriteUInt32LittleEndian(payload[IkRekeyOfOffset..], rekeyOf);
                earlyData.CopyTo(payload[IkPayloadPrefix..]);
            }
            else
            {
                payload = default;
            }
            message = new byte[noise.GetMessageLength(payload.Length)];
            noise.WriteMessage(payload, message);
            CryptographicOperations.ZeroMemory(payload);
            mac1Key = IsXXFamily(pattern) ? _mac1KeyXX : DeriveMac1Key(connection.PeerKey!);
        }
        catch
        {
            noise.Dispose();
            throw;
        }
        var handshake = new InitiatorHandshake(noise, localId, pattern, message, mac1Key, now);
        BuildInitiation(handshake, token: default);
        connection.Handshake = handshake;
        _initiating.Add(localId, connection);
        _statistics.HandshakesStarted++;
        OssuaryTelemetry.DatagramHandshakeStarted();
        SendInitiation(connection, handshake, now);
        handshake.NextRetransmitAt = now + DatagramTimers.RetransmitDelay(0) + Jitter();
    }

    /// <summary>Whether an authenticated payload is exactly the session id its packet's clear header claims: the id is bound to the handshake, so that changing it in transit fails the message instead of misrouting the session.</summary>
    private static bool HoldsSessionId(ReadOnlySpan<byte> payload, uint id) =>
        payload.Length == 4 && BinaryPrimitives.ReadUInt32LittleEndian(payload) == id;

    private static byte[] DeriveMac1Key(OssuaryPublicKey responder)
    {
        byte[] key = new byte[Mac1.KeySize];
        Mac1.DeriveKey(responder.Bytes, key);
        return key;
    }

    private static void BuildInitiation(InitiatorHandshake handshake, ReadOnlySpan<byte> token)
    {
        // Exactly the length WriteInitiation produces: the padded minimum, or more when early data needs it.
        byte[] packet = new byte[Math.Max(DatagramPacket.MinInitiationSize, 10 + token.Length + handshake.NoiseMessage.Length + DatagramPacket.MacSize)];
        DatagramPacket.WriteInitiation(packet, handshake.Pattern, handshake.LocalId, token, handshake.NoiseMessage, handshake.Mac1Key);
        handshake.Initiation = packet;
    }

    private void SendInitiation(DatagramConnection connection, InitiatorHandshake handshake, TimeSpan now)
    {
        Transmit(handshake.Initiation, connection.Address);
        handshake.LastSentAt = now;
    }

    /// <summary>Retransmits an unanswered Initiation, or abandons the handshake after 90 s.</summary>
    private void RetransmitOrAbandon(DatagramConnection connection, InitiatorHandshake handshake, TimeSpan now)
    {
        if (now - handshake.StartedAt >= DatagramTimers.HandshakeGiveUp)
        {
            _statistics.HandshakesTimedOut++;
            OssuaryTelemetry.DatagramHandshakeFailed(isInitiator: true, connection.Pattern, OssuaryErrorCode.HandshakeTimeout);
            AbandonHandshake(connection);
            // Nothing authenticated from the peer for the whole attempt (or no keys left): it is gone.
            if (connection.Stage == DatagramConnectionStage.Connecting || UsableSession(connection, now) is null
                || connection.LastReceivedAt is not { } received || received < handshake.StartedAt)
            {
                EndConnection(connection, DatagramCloseReason.HandshakeTimedOut);
            }
            return;
        }
        _statistics.HandshakeRetransmissions++;
        handshake.Retransmissions++;
        handshake.TookCookie = false; // each transmission may be answered by one CookieReply (a damaged token costs one interval)
        SendInitiation(connection, handshake, now);
        handshake.NextRetransmitAt = now + DatagramTimers.RetransmitDelay(handshake.Retransmissions) + Jitter();
    }

    /// <summary>Only the initiator of the first handshake starts handshakes on a connection, one at a time (roles never swap).</summary>
    private static bool MayStartHandshake(DatagramConnection connection) => connection.IsInitiator && connection.Handshake is null;

    private void AbandonHandshake(DatagramConnection connection)
    {
        if (connection.Handshake is { } handshake)
        {
            _initiating.Remove(handshake.LocalId);
            handshake.Dispose();
            connection.Handshake = null;
        }
    }

    /// <summary>
    /// A CookieReply: taken only when it answers this side's outstanding Initiation (its echo equals the mac1 of the
    /// Initiation last sent) and only once per transmission; the Initiation is rebuilt around the same Noise message with
    /// the token and sent at once.
    /// </summary>
    private void HandleCookieReply(in ParsedDatagram reply, TimeSpan now)
    {
        if (!_initiating.TryGetValue(reply.ReceiverSession, out DatagramConnection? connection) || connection.Handshake is not { } handshake)
        {
            Drop(DatagramDropReason.UnknownSession);
            return;
        }
        if (handshake.TookCookie || handshake.AwaitingVerdict || !CryptographicOperations.FixedTimeEquals(reply.Mac, handshake.Mac1))
        {
            Drop(DatagramDropReason.Unexpected);
            return;
        }
        handshake.TookCookie = true;
        BuildInitiation(handshake, reply.Token);
        SendInitiation(connection, handshake, now);
        handshake.NextRetransmitAt = now + DatagramTimers.RetransmitDelay(0) + Jitter();
    }

    /// <summary>
    /// A Response to this side's Initiation. It is read transactionally: one that fails to authenticate changes nothing
    /// and the handshake waits on. IK: the keys are made at once. XX: the responder's key is checked against the
    /// expected one or put to the caller, then the Finish goes out.
    /// </summary>
    private void HandleResponse(in ParsedDatagram response, in DatagramAddress from, TimeSpan now)
    {
        if (!_initiating.TryGetValue(response.ReceiverSession, out DatagramConnection? connection) || connection.Handshake is not { } handshake)
        {
            Drop(DatagramDropReason.UnknownSession);
            return;
        }
        if (handshake.AwaitingVerdict || response.Pattern != handshake.Pattern)
        {
            Drop(DatagramDropReason.Unexpected);
            return;
        }
        uint responderId = response.SenderSession;
        if (!handshake.Noise.TryReadMessage(response.NoiseMessage, _receiveScratch, out _, out _, payload => HoldsSessionId(payload, responderId)))
        {
            Drop(DatagramDropReason.HandshakeFailed);
            return;
        }
        // Authenticated from here on.
        if (handshake.Retransmissions == 0 && !handshake.TookCookie)
        {
            connection.AddRttSample(now - handshake.LastSentAt);
        }
        MoveToHandshakeAddress(connection, from);
        if (!IsXXFamily(handshake.Pattern))
        {
            InstallInitiatorSession(connection, handshake, response.SenderSession, now);
            return;
        }
        handshake.RemoteId = response.SenderSession;
        var responderKey = new OssuaryPublicKey(handshake.Noise.RemoteStaticPublicKey);
        if (connection.ExpectedKey is { } expected)
        {
            ContinueAsInitiator(connection, responderKey == expected ? VerifiedPeer.FromAcceptedVerdict(new PeerIdentity(responderKey, null, true), PeerVerdict.Accept()) : null, now);
            return;
        }
        handshake.AwaitingVerdict = true;
        Raise(new DatagramEvent(DatagramEventKind.VerificationRequired, connection.Handle));
    }

    /// <summary>A completing handshake message moves the peer to the address it came from; this side's answer proved nothing about it yet, but the handshake did: the peer answered there.</summary>
    private static void MoveToHandshakeAddress(DatagramConnection connection, in DatagramAddress from)
    {
        if (connection.Address.Equals(from))
        {
            return;
        }
        connection.Address = connection.ValidatedAddress = from;
        connection.AddressValidated = true;
        CancelPathChallenge(connection);
    }

    /// <summary>XX initiator after the verdict on the responder's key: the Finish and the keys, or a closed connection.</summary>
    private void ContinueAsInitiator(DatagramConnection connection, VerifiedPeer? verified, TimeSpan now)
    {
        InitiatorHandshake handshake = connection.Handshake!;
        if (verified is null)
        {
            _statistics.HandshakesRejected++;
            OssuaryTelemetry.DatagramHandshakeFailed(isInitiator: true, connection.Pattern, OssuaryErrorCode.PeerRejected);
            AbandonHandshake(connection);
            EndConnection(connection, DatagramCloseReason.PeerRejected);
            return;
        }
        connection.PeerKey = verified.PublicKey;
        byte[] message = new byte[handshake.Noise.GetMessageLength(0)];
        handshake.Noise.WriteMessage(default, message);
        byte[] finish = new byte[10 + message.Length];
        DatagramPacket.WriteFinish(finish, handshake.RemoteId, message);
        Transmit(finish, connection.Address);
        connection.Confirmation = new FirstKeysConfirmation(finish, now + DatagramTimers.RetransmitDelay(0) + Jitter());
        InstallInitiatorSession(connection, handshake, handshake.RemoteId, now);
    }

    /// <summary>
    /// The handshake is complete on the initiator's side: the new keys become current (the previous current stays one
    /// generation to decrypt late packets, unless it was never confirmed). IK: the Response proves the responder
    /// accepted, so the connection is connected at once, held datagrams go out, and with nothing to send a keepalive
    /// tells the responder the keys are confirmed. XX: the responder's verdict on this side's key comes after the
    /// Finish, so the keys are held unconfirmed, and datagrams with them, until a packet from the responder arrives
    /// under them (<see cref="ConfirmSession"/>); nothing sent before its verdict can be lost.
    /// </summary>
    private void InstallInitiatorSession(DatagramConnection connection, InitiatorHandshake handshake, uint remoteId, TimeSpan now)
    {
        bool awaitsVerdict = IsXXFamily(handshake.Pattern);
        var keys = new DatagramKeyPair(handshake.Noise.Split(), isInitiator: true, now);
        var session = new DatagramSession(connection, keys, handshake.LocalId, remoteId, confirmed: !awaitsVerdict);
        _initiating.Remove(handshake.LocalId);
        connection.Handshake = null;
        RetireSession(connection.Previous);
        connection.Previous = null;
        if (connection.Current is { Confirmed: true } previous)
        {
            connection.Previous = previous;
        }
        else
        {
            RetireSession(connection.Current);
        }
        connection.Current = session;
        _sessions.Add(session.LocalId, session);
        _statistics.HandshakesCompleted++;
        OssuaryTelemetry.DatagramHandshakeCompleted(isInitiator: true, connection.Pattern, _suite);
        if (awaitsVerdict)
        {
            return;
        }
        if (connection.LastReceivedAt is null)
        {
            // Nothing ever came from the responder under any keys: it may not hold these yet, so they are confirmed.
            connection.Confirmation = new FirstKeysConfirmation(finish: null, now + DatagramTimers.RetransmitDelay(0) + Jitter());
        }
        if (connection.Stage == DatagramConnectionStage.Connecting)
        {
            connection.Stage = DatagramConnectionStage.Established;
            Raise(new DatagramEvent(DatagramEventKind.Connected, connection.Handle));
        }
        else
        {
            _statistics.Rekeys++;
        }
        if (FlushHeld(connection, now) == 0)
        {
            SendControl(connection, session, DatagramContentType.Keepalive, default, now);
        }
    }

    private void RetireSession(DatagramSession? session)
    {
        if (session is not null)
        {
            _sessions.Remove(session.LocalId);
            session.Dispose();
        }
    }
}
