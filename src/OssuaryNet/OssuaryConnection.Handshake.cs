using System.Buffers;
using System.Buffers.Binary;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Trust;

namespace OssuaryNet;

// The handshake half of the connection: building and answering handshake frames, extensions, clear alerts.
// Flows (docs/PROTOCOL.md section 4):
//   XX: client -> [header | e]            server -> [0x00 | e, ee, s, es, ext]   client -> [0x00 | s, se, ext]
//   IK: client -> [header | e, es, s, ss, ext(+early data)]                     server -> [0x00 | e, ee, se, ext]
public sealed partial class OssuaryConnection
{
    private static readonly Dictionary<(OssuaryHandshakePattern, OssuarySuite), NoiseProtocol> Protocols = new()
    {
        [(OssuaryHandshakePattern.XX, OssuarySuite.ChaChaPolyBlake2b)] = NoiseProtocol.Parse("Noise_XX_25519_ChaChaPoly_BLAKE2b"),
        [(OssuaryHandshakePattern.IK, OssuarySuite.ChaChaPolyBlake2b)] = NoiseProtocol.Parse("Noise_IK_25519_ChaChaPoly_BLAKE2b"),
        [(OssuaryHandshakePattern.XX, OssuarySuite.AesGcmSha256)] = NoiseProtocol.Parse("Noise_XX_25519_AESGCM_SHA256"),
        [(OssuaryHandshakePattern.IK, OssuarySuite.AesGcmSha256)] = NoiseProtocol.Parse("Noise_IK_25519_AESGCM_SHA256"),
    };

    private HandshakeState? _handshake;
    private NoiseTransport? _transport;

    /// <summary>The transport keys, for tests that must reach states no peer can force quickly (nonce exhaustion).</summary>
    internal NoiseTransport? TransportForTesting => _transport;

    /// <summary>The Noise protocol name in use, e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b".</summary>
    public string? NoiseProtocolName => Pattern is { } p && Suite is { } s ? Protocols[(p, s)].Name : null;

    private int CurrentMaxFrameBody => _transport is null ? WireFormat.MaxFrameBody : _options.MaxRecordPayload + 1 + WireFormat.TagSize;

    private void StartClientHandshake(OssuaryClientOptions options)
    {
        Pattern = options.ServerKey is null ? OssuaryHandshakePattern.XX : OssuaryHandshakePattern.IK;
        Suite = options.Suite;
        if (!Protocols.ContainsKey((Pattern.Value, options.Suite)))
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"Unknown suite {options.Suite}.");
        }
        if (!options.EarlyData.IsEmpty && Pattern != OssuaryHandshakePattern.IK)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Early data needs the server's key in advance (ServerKey), i.e. an IK handshake.");
        }
        var header = new ClearHeader(WireFormat.Version, (byte)Pattern, (byte)Suite);
        Span<byte> prologue = stackalloc byte[Prologue.MaxLength];
        _handshake = new HandshakeState(
            Protocols[(Pattern.Value, Suite.Value)], initiator: true, Prologue.Write(header, options.ApplicationContext, prologue),
            options.StaticKeyPair!.PrivateKey, options.ServerKey is null ? default : options.ServerKey.Bytes,
            ephemeralSource: options.EphemeralKeySource, localStaticPublicKey: options.StaticKeyPair.PublicKey.Bytes,
            staticAgreement: options.StaticKeyPair); // initiator only: see StaticAgreementCache

        // XX's first message travels before any key exists, so its payload is empty: nothing is ever sent in clear.
        HandshakeExtensions extensions = default;
        if (Pattern == OssuaryHandshakePattern.IK)
        {
            extensions = OwnExtensions(offer: true);
            if (!options.EarlyData.IsEmpty)
            {
                extensions.EarlyData = options.EarlyData;
            }
        }
        header.Write(QueueHandshakeMessage(extensions, ClearHeader.Size));
    }

    private void ProcessHandshakeFrame(ReadOnlySpan<byte> body)
    {
        if (!IsClient && _handshake is null)
        {
            ProcessClientHello(body);
            return;
        }
        if (body[0] == WireFormat.AlertKind)
        {
            throw AlertReceived(body);
        }
        if (body[0] != WireFormat.HandshakeMessageKind)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, $"Unknown handshake frame kind {body[0]}.");
        }
        bool clientReadsXXSecond = IsClient && Pattern == OssuaryHandshakePattern.XX;
        HandshakeExtensions extensions = ReadHandshakeMessage(body[1..],
            ExtensionSet.MaxRecordPayload | (clientReadsXXSecond ? ExtensionSet.ApplicationProtocols : ExtensionSet.SelectedApplicationProtocol),
            IsClient ? $"{Pattern} message 2" : "XX message 3");
        VerifiedPeer peer = VerifyPeer();
        if (clientReadsXXSecond)
        {
            // XX: the server offered application protocols; the client selects and answers with message 3.
            HandshakeExtensions answer = OwnExtensions(offer: false);
            answer.SelectedApplicationProtocol = SelectApplicationProtocol(extensions.ApplicationProtocols);
            WriteHandshakeFrame(answer);
        }
        else
        {
            CheckSelectedApplicationProtocol(extensions.SelectedApplicationProtocol);
        }
        EnterTransport(peer, extensions);
    }

    private void ProcessClientHello(ReadOnlySpan<byte> body)
    {
        var options = (OssuaryServerOptions)_options;
        ClearHeader header = ClearHeader.Parse(body);
        if (header.Version != WireFormat.Version)
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedVersion, $"The client speaks protocol version {header.Version}; this server speaks version {WireFormat.Version}.");
        }
        var pattern = (OssuaryHandshakePattern)header.Pattern;
        var suite = (OssuarySuite)header.Suite;
        if (!Enum.IsDefined(pattern) || !options.AllowedPatterns.Contains(pattern))
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedPattern, $"The client asked for handshake pattern {header.Pattern}, which this server does not allow.");
        }
        if (!Enum.IsDefined(suite) || !options.AllowedSuites.Contains(suite))
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedSuite, $"The client asked for cipher suite {header.Suite}, which this server does not allow.");
        }
        Pattern = pattern;
        Suite = suite;
        Span<byte> prologue = stackalloc byte[Prologue.MaxLength];
        _handshake = new HandshakeState(
            Protocols[(pattern, suite)], initiator: false, Prologue.Write(header, options.ApplicationContext, prologue),
            options.StaticKeyPair!.PrivateKey, default, ephemeralSource: options.EphemeralKeySource,
            localStaticPublicKey: options.StaticKeyPair.PublicKey.Bytes);
        ReadOnlySpan<byte> message = body[ClearHeader.Size..];
        HandshakeExtensions answer = OwnExtensions(offer: pattern == OssuaryHandshakePattern.XX);
        if (pattern == OssuaryHandshakePattern.XX)
        {
            // XX message 1 is the client's ephemeral key and nothing else: a payload there would travel in clear.
            if (message.Length != _handshake.GetMessageLength(0))
            {
                throw new OssuaryException(OssuaryErrorCode.MalformedHandshake,
                    $"XX message 1 must be exactly the {_handshake.GetMessageLength(0)}-byte ephemeral key (its payload is empty); it has {message.Length} bytes.");
            }
            ReadHandshakeMessage(message, ExtensionSet.None, "XX message 1");
            WriteHandshakeFrame(answer);
            return;
        }

        HandshakeExtensions extensions = ReadHandshakeMessage(message,
            ExtensionSet.MaxRecordPayload | ExtensionSet.ApplicationProtocols | ExtensionSet.EarlyData, "IK message 1");

        VerifiedPeer peer = VerifyPeer();
        if (extensions.EarlyData is not null)
        {
            if (!options.AcceptEarlyData)
            {
                throw new OssuaryException(OssuaryErrorCode.EarlyDataRejected, "The client sent early data, which this server does not accept.");
            }
            EarlyData = extensions.EarlyData.Value;
        }
        answer.SelectedApplicationProtocol = SelectApplicationProtocol(extensions.ApplicationProtocols);
        WriteHandshakeFrame(answer);
        EnterTransport(peer, extensions);
    }

    /// <summary>
    /// Reads the next Noise message and decodes its payload, which may carry only the <paramref name="allowed"/>
    /// known extensions (docs/PROTOCOL.md 4.3: each has its one place; unknown even types are ignored anywhere).
    /// </summary>
    private HandshakeExtensions ReadHandshakeMessage(ReadOnlySpan<byte> message, ExtensionSet allowed, string where)
    {
        byte[] payload = ArrayPool<byte>.Shared.Rent(Math.Max(message.Length, 1));
        try
        {
            int length;
            try
            {
                length = _handshake!.ReadMessage(message, payload);
            }
            catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.AuthenticationFailed && !IsClient && Pattern == OssuaryHandshakePattern.IK && _handshake!.MessageIndex == 0)
            {
                // The usual cause is that the client pinned a key this server does not hold.
                throw new OssuaryException(OssuaryErrorCode.AuthenticationFailed,
                    "The client's IK first message failed authentication: it was tampered with, or the client pinned a key this server does not hold.");
            }
            HandshakeExtensions extensions = HandshakeExtensions.Decode(payload.AsSpan(0, length));
            ExtensionSet misplaced = extensions.Present & ~allowed;
            if (misplaced != ExtensionSet.None)
            {
                throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, $"The peer sent {misplaced} in {where}, where it is not allowed.");
            }
            return extensions;
        }
        finally
        {
            payload.AsSpan(0, message.Length).Clear();
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    private void WriteHandshakeFrame(in HandshakeExtensions extensions) =>
        QueueHandshakeMessage(extensions, 1)[0] = WireFormat.HandshakeMessageKind;

    /// <summary>
    /// Queues a frame of <paramref name="prefixLength"/> bytes followed by the next handshake message, whose payload
    /// is <paramref name="extensions"/>; returns the prefix for the caller to fill (before it drains anything). The
    /// frame is committed only once the Noise message is completely written: a message that fails (a low-order peer
    /// key) leaves nothing to send.
    /// </summary>
    private Span<byte> QueueHandshakeMessage(in HandshakeExtensions extensions, int prefixLength)
    {
        const int StackLimit = 256;
        int payloadLength = extensions.EncodedLength;
        byte[]? rented = null;
        Span<byte> payload = payloadLength <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(payloadLength));
        payload = payload[..payloadLength];
        try
        {
            extensions.Encode(payload);
            Span<byte> frame = BeginFrame(prefixLength + _handshake!.GetMessageLength(payloadLength));
            _handshake.WriteMessage(payload, frame[prefixLength..]);
            _output.CommitFrame();
            _inputBlockedByOutput = true;
            return frame[..prefixLength];
        }
        finally
        {
            payload.Clear(); // early data is application data: leave no copy behind
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private VerifiedPeer VerifyPeer()
    {
        var key = new OssuaryPublicKey(_handshake!.RemoteStaticPublicKey);
        return VerifiedPeer.Check(_options.PeerVerifier!, new PeerIdentity(key, _endpoint, PeerIsServer: IsClient));
    }

    private void EnterTransport(VerifiedPeer peer, HandshakeExtensions peerExtensions)
    {
        if (peer.PublicKey is null || !peer.PublicKey.Bytes.SequenceEqual(_handshake!.RemoteStaticPublicKey))
        {
            throw new OssuaryException(OssuaryErrorCode.InternalError, "The verified key is not the handshake's remote key.");
        }
        NoiseTransport transport = _handshake.Split();
        _handshake = null;
        _sendMaxPayload = Math.Min(peerExtensions.MaxRecordPayload ?? WireFormat.DefaultRecordPayload, WireFormat.MaxRecordPayload);
        RemotePublicKey = peer.PublicKey;
        _transport = transport;
    }

    private HandshakeExtensions OwnExtensions(bool offer) => new()
    {
        MaxRecordPayload = _options.MaxRecordPayload,
        ApplicationProtocols = offer && _options.ApplicationProtocols.Count > 0 ? _options.ApplicationProtocols : null,
    };

    /// <summary>The selector picks its most preferred protocol that the offerer offered (as TLS ALPN).</summary>
    private string? SelectApplicationProtocol(IList<string>? offered)
    {
        if (offered is null || _options.ApplicationProtocols.Count == 0)
        {
            return null;
        }
        string? selected = _options.ApplicationProtocols.FirstOrDefault(offered.Contains);
        if (selected is null)
        {
            throw new OssuaryException(OssuaryErrorCode.NoApplicationProtocol,
                $"No common application protocol: the peer offers [{PrintableText.Escape(string.Join(", ", offered))}], this side speaks [{string.Join(", ", _options.ApplicationProtocols)}].");
        }
        ApplicationProtocol = selected;
        return selected;
    }

    private void CheckSelectedApplicationProtocol(string? selected)
    {
        if (selected is not null && !_options.ApplicationProtocols.Contains(selected))
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, "The peer selected an application protocol that was not offered.");
        }
        ApplicationProtocol = selected;
    }

    /// <summary>Begins a handshake frame in the output queue and returns its body; see <see cref="OutputQueue"/>.</summary>
    private Span<byte> BeginFrame(int bodyLength)
    {
        if (bodyLength > WireFormat.MaxFrameBody)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "A handshake message would exceed the 65535-byte frame limit (early data too large?).");
        }
        return _output.BeginFrame(bodyLength)[WireFormat.LengthPrefixSize..];
    }

    /// <summary>
    /// The alert a side sends when it fails during its handshake (docs/PROTOCOL.md section 6), or null: none once
    /// this side is in the transport phase (its peer reads records by then, except as 4.4 says), none in answer to
    /// the peer's own alert, and none for failures that are local (the transport ended, a timer, a caller's mistake).
    /// A rejected or changed key is reported as <see cref="OssuaryErrorCode.PeerRejected"/>: the local reason, with
    /// file names and fingerprints, stays local.
    /// </summary>
    private OssuaryErrorCode? AlertFor(OssuaryException error)
    {
        if (_transport is not null || error.IsPeerAlert)
        {
            return null;
        }
        return error.ErrorCode == OssuaryErrorCode.PeerKeyChanged ? OssuaryErrorCode.PeerRejected
            : IsAlertCode(error.ErrorCode) ? error.ErrorCode
            : null;
    }

    /// <summary>The codes that travel in alerts (docs/PROTOCOL.md section 6); the others are local only.</summary>
    private static bool IsAlertCode(OssuaryErrorCode code) => code is OssuaryErrorCode.MalformedFrame or OssuaryErrorCode.MalformedHandshake
        or OssuaryErrorCode.AuthenticationFailed or OssuaryErrorCode.UnexpectedMessage or OssuaryErrorCode.UnsupportedVersion
        or OssuaryErrorCode.UnsupportedSuite or OssuaryErrorCode.UnsupportedPattern or OssuaryErrorCode.UnsupportedExtension
        or OssuaryErrorCode.PeerRejected or OssuaryErrorCode.InvalidKey or OssuaryErrorCode.NoApplicationProtocol
        or OssuaryErrorCode.EarlyDataRejected;

    private void QueueAlert(OssuaryErrorCode code)
    {
        Span<byte> frame = BeginFrame(2);
        frame[0] = WireFormat.AlertKind;
        frame[1] = (byte)code;
        _output.CommitFrame();
    }

    /// <summary>
    /// Whether a two-byte body starting with 0x15 in record position is the peer's clear alert (docs/PROTOCOL.md
    /// 4.4): only for the side that finished its handshake before the peer verified it (the XX client, the IK server),
    /// and only until its first record arrives. For the others such a body is simply a malformed record.
    /// </summary>
    private bool MayReceiveAlertAsRecord =>
        !_receivedRecord && (IsClient ? Pattern == OssuaryHandshakePattern.XX : Pattern == OssuaryHandshakePattern.IK);

    private static OssuaryException AlertReceived(ReadOnlySpan<byte> body)
    {
        if (body.Length != 2 || !IsAlertCode((OssuaryErrorCode)body[1]))
        {
            return new OssuaryException(OssuaryErrorCode.MalformedHandshake,
                body.Length == 2 ? $"The peer sent an alert with code {body[1]}, which is never sent in an alert." : "The peer sent a malformed alert.") { IsPeerAlert = true };
        }
        var code = (OssuaryErrorCode)body[1];
        string message = code switch
        {
            OssuaryErrorCode.PeerRejected => "The peer rejected this side's identity (its peer verifier did not accept our key).",
            OssuaryErrorCode.UnsupportedVersion => "The peer does not support protocol version 1.",
            OssuaryErrorCode.UnsupportedSuite => "The peer does not allow the proposed cipher suite.",
            OssuaryErrorCode.UnsupportedPattern => "The peer does not allow the proposed handshake pattern.",
            OssuaryErrorCode.AuthenticationFailed => "The peer could not authenticate our handshake message (if a server key is pinned, the server may hold another key).",
            OssuaryErrorCode.EarlyDataRejected => "The peer does not accept early data.",
            OssuaryErrorCode.NoApplicationProtocol => "The peer shares no application protocol with this side.",
            _ => $"The peer aborted the handshake ({code}).",
        };
        // Alerts are unauthenticated: anyone on the path can forge one, but all it can do is end the handshake.
        return new OssuaryException(code, message) { IsPeerAlert = true };
    }
}
