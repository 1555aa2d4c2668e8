using CommunityToolkit.HighPerformance.Buffers;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Phases;
using OssuaryNet.Protocol;
using OssuaryNet.Trust;

namespace OssuaryNet;

// The handshake half of the connection: each handshake frame moves the connection from one phase to the next.
// Flows (docs/PROTOCOL.md section 4); "verdict" is the pause for the peer verifier:
//   XX: client -> [header | e]   server -> [0x00 | e, ee, s, es, ext]   (client: verdict)   client -> [0x00 | s, se, ext]   (server: verdict)
//   IK: client -> [header | e, es, s, ss, ext(+early data)]   (server: verdict)   server -> [0x00 | e, ee, se, ext]   (client: verdict)
public sealed partial class OssuaryConnection
{
    private static readonly Dictionary<(OssuaryHandshakePattern, OssuarySuite), NoiseProtocol> Protocols = new()
    {
        [(OssuaryHandshakePattern.XX, OssuarySuite.ChaChaPolyBlake2b)] = NoiseProtocol.Parse("Noise_XX_25519_ChaChaPoly_BLAKE2b"),
        [(OssuaryHandshakePattern.IK, OssuarySuite.ChaChaPolyBlake2b)] = NoiseProtocol.Parse("Noise_IK_25519_ChaChaPoly_BLAKE2b"),
        [(OssuaryHandshakePattern.XX, OssuarySuite.AesGcmSha256)] = NoiseProtocol.Parse("Noise_XX_25519_AESGCM_SHA256"),
        [(OssuaryHandshakePattern.IK, OssuarySuite.AesGcmSha256)] = NoiseProtocol.Parse("Noise_IK_25519_AESGCM_SHA256"),
        [(OssuaryHandshakePattern.XXhfs, OssuarySuite.ChaChaPolyBlake2b)] = NoiseProtocol.Parse("Noise_XXhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b"),
        [(OssuaryHandshakePattern.IKhfs, OssuarySuite.ChaChaPolyBlake2b)] = NoiseProtocol.Parse("Noise_IKhfs_25519+MLKEM768_ChaChaPoly_BLAKE2b"),
        [(OssuaryHandshakePattern.XXhfs, OssuarySuite.AesGcmSha256)] = NoiseProtocol.Parse("Noise_XXhfs_25519+MLKEM768_AESGCM_SHA256"),
        [(OssuaryHandshakePattern.IKhfs, OssuarySuite.AesGcmSha256)] = NoiseProtocol.Parse("Noise_IKhfs_25519+MLKEM768_AESGCM_SHA256"),
    };

    /// <summary>The Noise protocol name in use, e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b".</summary>
    public string? NoiseProtocolName => Pattern is { } p && Suite is { } s ? Protocols[(p, s)].Name : null;

    private void StartClientHandshake()
    {
        ConnectionSettings settings = _settings;
        Pattern = (settings.ServerKey is null ? OssuaryHandshakePattern.XX : OssuaryHandshakePattern.IK).WithHybrid(settings.PostQuantum != OssuaryPostQuantum.Off);
        Suite = settings.Suite;
        if (!Protocols.ContainsKey((Pattern.Value, settings.Suite)))
        {
            throw new ArgumentException($"Unknown suite {settings.Suite}.", "options");
        }
        if (!settings.EarlyData.IsEmpty && Pattern.Value.IsXXFamily())
        {
            throw new ArgumentException("Early data needs the server's key in advance (ServerKey), i.e. an IK handshake.", "options");
        }
        var header = new ClearHeader(WireFormat.Version, (byte)Pattern, (byte)Suite);
        Span<byte> prologue = stackalloc byte[Prologue.MaxLength];
        var noise = new HandshakeState(
            Protocols[(Pattern.Value, Suite.Value)], initiator: true, Prologue.Write(header, settings.ApplicationContext, prologue),
            settings.StaticKeyPair.PrivateKey, settings.ServerKey is null ? default : settings.ServerKey.Bytes,
            ephemeralSource: settings.EphemeralKeySource, localStaticPublicKey: settings.StaticKeyPair.PublicKey.Bytes,
            staticAgreement: settings.StaticKeyPair); // initiator only: see StaticAgreementCache
        _phase = new HandshakingPhase(noise);

        // XX's first message travels before any key exists, so its payload is empty: nothing is ever sent in clear.
        HandshakeExtensions extensions = default;
        if (!Pattern.Value.IsXXFamily())
        {
            extensions = OwnExtensions(offer: true);
            if (!settings.EarlyData.IsEmpty)
            {
                extensions.EarlyData = settings.EarlyData;
            }
        }
        try
        {
            header.Write(QueueHandshakeMessage(noise, extensions, ClearHeader.Size));
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.InvalidOperation)
        {
            noise.Dispose();
            throw new ArgumentException(e.Message, "options", e);
        }
    }

    /// <summary>Handles one handshake frame in the current phase and returns the next phase.</summary>
    private ConnectionPhase ReceiveHandshakeFrame(ReadOnlySpan<byte> body) => _phase switch
    {
        AwaitingFirstMessagePhase => ReceiveFirstMessage(body),
        HandshakingPhase handshaking => ReceiveHandshakeMessage(handshaking.Noise, body),
        _ => throw new InvalidOperationException($"No handshake frame is expected in {_phase.GetType().Name}."),
    };

    private AwaitingVerdictPhase ReceiveHandshakeMessage(HandshakeState noise, ReadOnlySpan<byte> body)
    {
        if (body[0] == WireFormat.AlertKind)
        {
            throw Alerts.Received(body, IsClient ? Pattern : null, _endpoint);
        }
        if (body[0] != WireFormat.HandshakeMessageKind)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, $"Unknown handshake frame kind {body[0]}.");
        }
        bool clientReadsXXSecond = IsClient && Pattern!.Value.IsXXFamily();
        HandshakeExtensions extensions = ReadHandshakeMessage(noise, body[1..],
            ExtensionSet.MaxRecordPayload | (clientReadsXXSecond ? ExtensionSet.ApplicationProtocols : ExtensionSet.SelectedApplicationProtocol),
            IsClient ? (Pattern!.Value.IsXXFamily() ? "XX message 2" : "IK message 2") : "XX message 3");
        return AwaitVerdict(noise, extensions);
    }

    private ConnectionPhase ReceiveFirstMessage(ReadOnlySpan<byte> body)
    {
        ConnectionSettings settings = _settings;
        ClearHeader header = ClearHeader.Parse(body);
        if (header.Version != WireFormat.Version)
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedVersion, $"The client speaks protocol version {header.Version}; this server speaks version {WireFormat.Version}.");
        }
        var pattern = (OssuaryHandshakePattern)header.Pattern;
        var suite = (OssuarySuite)header.Suite;
        if (!Enum.IsDefined(pattern) || !(settings.AllowedPatterns.Contains(pattern) || settings.AllowedPatterns.Contains(pattern.Classical())))
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedPattern, $"The client asked for handshake pattern {header.Pattern}, which this server does not allow.");
        }
        // The policy decides between the hybrid and the classical variant of an allowed pattern.
        if (pattern.IsHybrid() ? settings.PostQuantum == OssuaryPostQuantum.Off : settings.PostQuantum == OssuaryPostQuantum.Required)
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedPattern, pattern.IsHybrid()
                ? $"The client asked for the post-quantum hybrid handshake {pattern}, which this server has turned off."
                : $"The client asked for the classical handshake {pattern}; this server requires the post-quantum hybrid one.");
        }
        if (!Enum.IsDefined(suite) || !settings.AllowedSuites.Contains(suite))
        {
            throw new OssuaryException(OssuaryErrorCode.UnsupportedSuite, $"The client asked for cipher suite {header.Suite}, which this server does not allow.");
        }
        Pattern = pattern;
        Suite = suite;
        Span<byte> prologue = stackalloc byte[Prologue.MaxLength];
        var noise = new HandshakeState(
            Protocols[(pattern, suite)], initiator: false, Prologue.Write(header, settings.ApplicationContext, prologue),
            settings.StaticKeyPair.PrivateKey, default, ephemeralSource: settings.EphemeralKeySource,
            localStaticPublicKey: settings.StaticKeyPair.PublicKey.Bytes);
        // From here the handshake state is the phase's, so a failure below wipes it.
        _phase = new HandshakingPhase(noise);
        ReadOnlySpan<byte> message = body[ClearHeader.Size..];
        if (pattern.IsXXFamily())
        {
            // XX message 1 is the client's ephemeral key (and XXhfs's KEM key) and nothing else: a payload there would travel in clear.
            if (message.Length != noise.GetMessageLength(0))
            {
                throw new OssuaryException(OssuaryErrorCode.MalformedHandshake,
                    $"{pattern} message 1 must be exactly the {noise.GetMessageLength(0)}-byte ephemeral key{(pattern.IsHybrid() ? "s" : "")} (its payload is empty); it has {message.Length} bytes.");
            }
            ReadHandshakeMessage(noise, message, ExtensionSet.None, "XX message 1");
            WriteHandshakeFrame(noise, OwnExtensions(offer: true));
            return _phase;
        }
        HandshakeExtensions extensions = ReadHandshakeMessage(noise, message,
            ExtensionSet.MaxRecordPayload | ExtensionSet.ApplicationProtocols | ExtensionSet.EarlyData, "IK message 1");
        return AwaitVerdict(noise, extensions);
    }

    /// <summary>The peer's static key is authenticated: pause until the caller gives the verifier's verdict.</summary>
    private AwaitingVerdictPhase AwaitVerdict(HandshakeState noise, HandshakeExtensions peerExtensions)
    {
        var identity = new PeerIdentity(new OssuaryPublicKey(noise.RemoteStaticPublicKey), _endpoint, PeerIsServer: IsClient) { Pattern = Pattern!.Value };
        return new AwaitingVerdictPhase(noise, identity, peerExtensions);
    }

    /// <summary>The peer is verified: send this side's last handshake message, if it owes one, and enter the transport phase.</summary>
    private EstablishedPhase ContinueAfterVerification(AwaitingVerdictPhase awaiting, VerifiedPeer peer)
    {
        HandshakeState noise = awaiting.Noise;
        HandshakeExtensions extensions = awaiting.PeerExtensions;
        // The XX client and the IK server still owe the last handshake message; they finish before their peer has
        // verified them, so the peer's alert may still reach them where a record would (docs/PROTOCOL.md 4.4).
        bool owesLastMessage = IsClient == Pattern!.Value.IsXXFamily();
        if (owesLastMessage)
        {
            if (!IsClient && extensions.EarlyData is not null && !_settings.AcceptEarlyData)
            {
                throw new OssuaryException(OssuaryErrorCode.EarlyDataRejected, "The client sent early data, which this server does not accept.");
            }
            // The peer offered application protocols (XX server in message 2, IK client in message 1): select one.
            HandshakeExtensions answer = OwnExtensions(offer: false);
            answer.SelectedApplicationProtocol = SelectApplicationProtocol(extensions.ApplicationProtocols);
            WriteHandshakeFrame(noise, answer);
            EarlyData = extensions.EarlyData ?? default;
        }
        else
        {
            CheckSelectedApplicationProtocol(extensions.SelectedApplicationProtocol);
        }
        EstablishedPhase established = EstablishedPhase.Enter(noise, peer, _output, _reader, _settings,
            extensions.MaxRecordPayload ?? WireFormat.DefaultRecordPayload, peerMayStillAlert: owesLastMessage);
        StartCountingAsActive(Pattern!.Value, Suite!.Value);
        return established;
    }

    /// <summary>
    /// Reads the next Noise message and decodes its payload, which may carry only the <paramref name="allowed"/>
    /// known extensions (docs/PROTOCOL.md 4.3: each has its one place; unknown even types are ignored anywhere).
    /// </summary>
    private HandshakeExtensions ReadHandshakeMessage(HandshakeState noise, ReadOnlySpan<byte> message, ExtensionSet allowed, string where)
    {
        using SpanOwner<byte> payload = SpanOwner<byte>.Allocate(Math.Max(message.Length, 1));
        try
        {
            int length;
            try
            {
                length = noise.ReadMessage(message, payload.Span);
            }
            catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.AuthenticationFailed && !IsClient && !Pattern!.Value.IsXXFamily() && noise.MessageIndex == 0)
            {
                // The usual cause is that the client pinned a key this server does not hold.
                throw new OssuaryException(OssuaryErrorCode.AuthenticationFailed,
                    "The client's IK first message failed authentication: it was tampered with, or the client pinned a key this server does not hold.");
            }
            HandshakeExtensions extensions = HandshakeExtensions.Decode(payload.Span[..length]);
            ExtensionSet misplaced = extensions.Present & ~allowed;
            if (misplaced != ExtensionSet.None)
            {
                throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, $"The peer sent {misplaced} in {where}, where it is not allowed.");
            }
            return extensions;
        }
        finally
        {
            payload.Span.Clear();
        }
    }

    private void WriteHandshakeFrame(HandshakeState noise, in HandshakeExtensions extensions) =>
        QueueHandshakeMessage(noise, extensions, 1)[0] = WireFormat.HandshakeMessageKind;

    /// <summary>
    /// Queues a frame of <paramref name="prefixLength"/> bytes followed by the next handshake message, whose payload
    /// is <paramref name="extensions"/>; returns the prefix for the caller to fill (before it drains anything). The
    /// frame is committed only once the Noise message is completely written: a message that fails (a low-order peer
    /// key) leaves nothing to send.
    /// </summary>
    private Span<byte> QueueHandshakeMessage(HandshakeState noise, in HandshakeExtensions extensions, int prefixLength)
    {
        const int StackLimit = 256;
        int payloadLength = extensions.EncodedLength;
        using SpanOwner<byte> large = payloadLength <= StackLimit ? SpanOwner<byte>.Empty : SpanOwner<byte>.Allocate(payloadLength);
        Span<byte> payload = payloadLength <= StackLimit ? stackalloc byte[StackLimit] : large.Span;
        payload = payload[..payloadLength];
        try
        {
            extensions.Encode(payload);
            Span<byte> frame = BeginFrame(prefixLength + noise.GetMessageLength(payloadLength));
            noise.WriteMessage(payload, frame[prefixLength..]);
            _output.CommitFrame();
            _inputBlockedByOutput = true;
            return frame[..prefixLength];
        }
        finally
        {
            payload.Clear(); // early data is application data: leave no copy behind
        }
    }

    private HandshakeExtensions OwnExtensions(bool offer) => new()
    {
        MaxRecordPayload = _settings.MaxRecordPayload,
        ApplicationProtocols = offer && _settings.ApplicationProtocols.Length > 0 ? (IList<string>)_settings.ApplicationProtocols : null,
    };

    /// <summary>The selector picks its most preferred protocol that the offerer offered (as TLS ALPN).</summary>
    private string? SelectApplicationProtocol(IList<string>? offered)
    {
        if (offered is null || _settings.ApplicationProtocols.Length == 0)
        {
            return null;
        }
        string? selected = _settings.ApplicationProtocols.FirstOrDefault(offered.Contains);
        if (selected is null)
        {
            throw new OssuaryException(OssuaryErrorCode.NoApplicationProtocol,
                $"No common application protocol: the peer offers [{PrintableText.Escape(string.Join(", ", offered))}], this side speaks [{string.Join(", ", _settings.ApplicationProtocols)}].");
        }
        ApplicationProtocol = selected;
        return selected;
    }

    private void CheckSelectedApplicationProtocol(string? selected)
    {
        if (selected is not null && !_settings.ApplicationProtocols.Contains(selected))
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

    private void QueueAlert(AlertCode code)
    {
        Span<byte> frame = BeginFrame(2);
        frame[0] = WireFormat.AlertKind;
        frame[1] = (byte)code;
        _output.CommitFrame();
    }
}
