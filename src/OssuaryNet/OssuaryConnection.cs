using System.Buffers;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Phases;
using OssuaryNet.Protocol;
using OssuaryNet.Telemetry;
using OssuaryNet.Trust;

namespace OssuaryNet;

/// <summary>
/// A secure channel as a sans-I/O state machine: encrypted bytes in, plaintext out; plaintext in, encrypted bytes
/// out. It never touches a socket, a clock or a thread; the caller moves the bytes and passes the time in.
/// </summary>
/// <remarks>
/// <para>The caller's loop: hand received bytes to <see cref="Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>, which consumes them in any chunking and
/// writes plaintext into the caller's span; whenever <see cref="HasPendingOutput"/> is true (and to send plaintext),
/// call <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>, which writes the bytes to transmit into
/// the caller's span. When <see cref="Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> returns <see cref="OssuaryStatus.PeerVerificationRequired"/>, judge
/// <see cref="PeerToVerify"/> (with the configured <see cref="PeerVerifier"/>, outside any lock) and pass the verdict
/// to <see cref="CompletePeerVerification"/>. Until the handshake completes, call <see cref="HandleTimeout"/> at
/// <see cref="NextTimeout"/>.</para>
/// <para>Errors are sticky: the first fatal <see cref="OssuaryException"/> is kept, <see cref="State"/> becomes
/// <see cref="OssuaryConnectionState.Failed"/>, and every later call throws an exception with the same code (after
/// <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> has drained a pending clear alert, if any).
/// A record that fails authentication releases no plaintext and advances no state. If a frame fails after authentic
/// plaintext from earlier frames was written in the same <see cref="Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> call, that plaintext is returned
/// normally and the next call throws. Caller mistakes throw the standard exceptions
/// (<see cref="ArgumentException"/>, <see cref="InvalidOperationException"/>, <see cref="ObjectDisposedException"/>)
/// and change nothing.</para>
/// <para>Threads: during the handshake, one thread at a time. Once established, one thread may receive
/// (<see cref="Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>, <see cref="CompleteInput"/>) while another sends (<see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>,
/// <see cref="Close"/>, <see cref="Ping"/>, <see cref="RequestKeyUpdate"/>): the receiving and sending halves share
/// only a small queue of owed pongs. <see cref="Dispose"/> must not run concurrently with either.</para>
/// </remarks>
public sealed partial class OssuaryConnection : IDisposable
{
    private readonly ConnectionSettings _settings;
    private readonly string? _endpoint;
    private readonly OutputQueue _output = new();
    private readonly FrameReader _reader = new();
    private readonly long _handshakeDeadlineTicks; // long.MaxValue: none
    private volatile ConnectionPhase _phase;
    private OssuaryException? _failure;
    private bool _disposed;

    // Telemetry's count of active connections: 0 before the handshake completes, 1 while counted, 2 once uncounted
    // (at failure or disposal, whichever comes first).
    private int _activeCount;

    // Set when a failure happened in the transport phase, possibly on the receiving thread: the sending side, which
    // owns the output queue then, discards what it had queued before it sends anything else.
    private volatile bool _senderMustDiscard;

    // During the handshake, while a reply waits to be sent, no more input is consumed.
    private bool _inputBlockedByOutput;

    private OssuaryConnection(ConnectionSettings settings, bool isClient, string? endpoint, TimeSpan now)
    {
        _settings = settings;
        IsClient = isClient;
        _endpoint = endpoint;
        _phase = AwaitingFirstMessagePhase.Instance; // a client moves on at once (StartClientHandshake)
        LocalPublicKey = settings.StaticKeyPair.PublicKey;
        _handshakeDeadlineTicks = settings.HandshakeTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : (now + settings.HandshakeTimeout).Ticks;
        OssuaryTelemetry.HandshakeStarted(isClient);
    }

    /// <summary>Creates the initiating side; its first handshake frame is queued at once (see <see cref="HasPendingOutput"/>).</summary>
    /// <param name="options">Settings, validated and copied here: later changes to the object do not affect this connection.</param>
    /// <param name="serverName">The server's endpoint name (e.g. "host:port"), passed to the peer verifier. A verifier
    /// that has a key on record for it (<see cref="KnownHosts"/>) makes the handshake IK with that key, as a pinned key does.</param>
    /// <param name="now">The caller's monotonic time now; the handshake deadline counts from it (see <see cref="NextTimeout"/>).</param>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static OssuaryConnection CreateClient(OssuaryClientOptions options, string? serverName = null, TimeSpan now = default) =>
        CreateClient(options, serverName, now, handshakeTimeout: null);

    /// <summary>As <see cref="CreateClient(OssuaryClientOptions, string?, TimeSpan)"/>, with the stream's override of the handshake timeout.</summary>
    internal static OssuaryConnection CreateClient(OssuaryClientOptions options, string? serverName, TimeSpan now, TimeSpan? handshakeTimeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConnectionSettings settings = ConnectionSettings.ForClient(options, serverName).WithHandshakeTimeout(handshakeTimeout);
        var connection = new OssuaryConnection(settings, isClient: true, serverName, now);
        connection.StartClientHandshake();
        return connection;
    }

    /// <summary>As <see cref="CreateServer(OssuaryServerOptions, string?, TimeSpan)"/>, with the stream's override of the handshake timeout.</summary>
    internal static OssuaryConnection CreateServer(OssuaryServerOptions options, string? clientEndpoint, TimeSpan now, TimeSpan? handshakeTimeout)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OssuaryConnection(ConnectionSettings.ForServer(options).WithHandshakeTimeout(handshakeTimeout), isClient: false, clientEndpoint, now);
    }

    /// <summary>Creates the responding side; it waits for the client's first frame.</summary>
    /// <param name="options">Settings, validated and copied here.</param>
    /// <param name="clientEndpoint">The client's endpoint (e.g. its address), passed to the peer verifier.</param>
    /// <param name="now">The caller's monotonic time now; the handshake deadline counts from it.</param>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public static OssuaryConnection CreateServer(OssuaryServerOptions options, string? clientEndpoint = null, TimeSpan now = default) =>
        CreateServer(options, clientEndpoint, now, handshakeTimeout: null);

    /// <summary>True for the initiating side.</summary>
    public bool IsClient { get; }

    /// <summary>Where the connection is in its life cycle.</summary>
    public OssuaryConnectionState State => _phase switch
    {
        FailedPhase => OssuaryConnectionState.Failed,
        EstablishedPhase e => e.Sender.IsLocalClosed && e.Receiver.IsRemoteClosed ? OssuaryConnectionState.Closed : OssuaryConnectionState.Established,
        _ => OssuaryConnectionState.Handshaking,
    };

    /// <summary>The fatal error that failed the connection, or null.</summary>
    public OssuaryException? Failure => Volatile.Read(ref _failure);

    /// <summary>The peer verifier given in the options this connection was created with.</summary>
    public PeerVerifier PeerVerifier => _settings.PeerVerifier;

    /// <summary>While <see cref="Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> reports <see cref="OssuaryStatus.PeerVerificationRequired"/>: the authenticated peer to judge; otherwise null.</summary>
    public PeerIdentity? PeerToVerify => (_phase as AwaitingVerdictPhase)?.Peer;

    /// <summary>The proof that the peer verifier accepted the peer, once the handshake has completed.</summary>
    public VerifiedPeer? VerifiedPeer => Established?.Peer;

    /// <summary>True once this side has queued its authenticated close.</summary>
    public bool IsLocalClosed => Established?.Sender.IsLocalClosed ?? false;

    /// <summary>True once the peer's authenticated close has been received.</summary>
    public bool IsRemoteClosed => Established?.Receiver.IsRemoteClosed ?? false;

    /// <summary>True when <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> has bytes to transmit even with no new plaintext.</summary>
    public bool HasPendingOutput =>
        _senderMustDiscard ? _output.HasPartlyDrainedFrame // what remains once the queue is discarded
        : _phase is EstablishedPhase e ? e.Sender.HasPendingOutput
        : _output.Count > 0;

    /// <summary>After <see cref="OssuaryStatus.DestinationTooSmall"/>: the destination size with which the same call completes its next unit (a whole frame, or all waiting plaintext).</summary>
    public int RequiredDestinationSize { get; private set; }

    /// <summary>This side's static public key.</summary>
    public OssuaryPublicKey LocalPublicKey { get; }

    /// <summary>The peer's verified static public key, once the handshake has completed.</summary>
    public OssuaryPublicKey? RemotePublicKey => Established?.Peer.PublicKey;

    /// <summary>The handshake pattern in use (known to the server after the first frame).</summary>
    public OssuaryHandshakePattern? Pattern { get; private set; }

    /// <summary>The peer's endpoint name as given at creation (for telemetry), or null.</summary>
    internal string? Endpoint => _endpoint;

    /// <summary>The cipher suite in use (known to the server after the first frame).</summary>
    public OssuarySuite? Suite { get; private set; }

    /// <summary>The negotiated application protocol, or null.</summary>
    public string? ApplicationProtocol { get; private set; }

    /// <summary>Server side: early data received in an IK first message (replayable!), or empty; set only once the client is verified.</summary>
    public ReadOnlyMemory<byte> EarlyData { get; private set; }

    /// <summary>
    /// The Noise handshake hash: unique to this session and identical on both sides, for channel binding
    /// (e.g. sign it with another credential). Empty until the handshake completes, and after <see cref="Dispose"/>.
    /// </summary>
    public ReadOnlySpan<byte> HandshakeHash => Established is { } e ? e.HandshakeHash : default;

    /// <summary>The largest payload this side puts in one record (the smaller of the peer's limit and the 65518-byte maximum).</summary>
    public int MaxSendPayload => Established?.Sender.MaxPayload ?? WireFormat.DefaultRecordPayload;

    /// <summary>The largest payload one record can carry (65535 - 1 type byte - 16 tag bytes).</summary>
    public const int MaxRecordPayload = WireFormat.MaxRecordPayload;

    /// <summary>A frame's size on the wire for a payload of <paramref name="payloadLength"/> bytes (before padding).</summary>
    public static int GetFrameSize(int payloadLength) => payloadLength + WireFormat.RecordOverhead;

    /// <summary>Records sealed under the current sending key (reset by each key update).</summary>
    public long RecordsOnCurrentSendKey => Established?.Sender.RecordsOnKey ?? 0;

    /// <summary>Key updates this side has made to its sending direction.</summary>
    public long SendKeyUpdates => Established?.Sender.KeyUpdates ?? 0;

    /// <summary>Key updates the peer has made to its sending direction.</summary>
    public long ReceiveKeyUpdates => Established?.Receiver.KeyUpdates ?? 0;

    /// <summary>Pongs received so far.</summary>
    public long PongsReceived => Established?.Receiver.PongsReceived ?? 0;

    /// <summary>
    /// When <see cref="HandleTimeout"/> must next be called, on the caller's clock (the one <c>now</c> was read from at
    /// creation); null when nothing is timed (the handshake has ended, or its timeout is infinite).
    /// </summary>
    public TimeSpan? NextTimeout =>
        _phase is EstablishedPhase or FailedPhase || _handshakeDeadlineTicks == long.MaxValue ? null : TimeSpan.FromTicks(_handshakeDeadlineTicks);

    /// <summary>The keys of the transport phase, also after a failure from it.</summary>
    private EstablishedPhase? Established => _phase switch
    {
        EstablishedPhase e => e,
        FailedPhase f => f.WasEstablished,
        _ => null,
    };

    /// <summary>The transport keys, for tests that must reach states no peer can force quickly (nonce exhaustion).</summary>
    internal NoiseTransport? TransportForTesting => Established?.Keys;

    /// <summary>
    /// Consumes received bytes from <paramref name="source"/> and writes plaintext into <paramref name="destination"/>.
    /// </summary>
    /// <param name="source">Bytes received from the peer, in any chunking.</param>
    /// <param name="destination">Where plaintext goes; may be empty during the handshake.</param>
    /// <param name="consumed">How many bytes of <paramref name="source"/> were used; the caller presents the rest again.</param>
    /// <param name="written">How many plaintext bytes were written.</param>
    /// <returns>
    /// <see cref="OssuaryStatus.NeedMoreInput"/> when all input was used; <see cref="OssuaryStatus.DestinationTooSmall"/>
    /// when <paramref name="destination"/> is full and more plaintext or input remains; <see cref="OssuaryStatus.OutputPending"/>
    /// when a reply must be sent first; <see cref="OssuaryStatus.PeerVerificationRequired"/> when the peer's key awaits a
    /// verdict; <see cref="OssuaryStatus.Closed"/> when the peer has closed and everything was delivered.
    /// </returns>
    /// <exception cref="OssuaryException">Any protocol, authentication or trust failure; the connection is then failed for good.</exception>
    public OssuaryStatus Receive(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        consumed = 0;
        written = 0;
        ThrowIfUnusable();
        try
        {
            while (true)
            {
                switch (_phase)
                {
                    case EstablishedPhase established:
                        OssuaryStatus status = established.Receiver.Receive(source, destination, ref consumed, ref written, out int required);
                        RequiredDestinationSize = required;
                        return status;
                    case AwaitingVerdictPhase:
                        return OssuaryStatus.PeerVerificationRequired;
                }
                if (_inputBlockedByOutput && _output.Count > 0)
                {
                    return OssuaryStatus.OutputPending;
                }
                ReadOnlySpan<byte> remaining = source[consumed..];
                if (remaining.IsEmpty)
                {
                    return OssuaryStatus.NeedMoreInput;
                }
                if (IsClient ? _phase is HandshakingPhase : _phase is AwaitingFirstMessagePhase)
                {
                    CheckPeersFirstBytes(remaining);
                }
                if (_reader.TryPeekWholeFrame(remaining, WireFormat.MaxFrameBody, out int bodyLength))
                {
                    consumed += WireFormat.LengthPrefixSize + bodyLength;
                    _phase = ReceiveHandshakeFrame(remaining.Slice(WireFormat.LengthPrefixSize, bodyLength));
                    continue;
                }
                consumed += _reader.Append(remaining, WireFormat.MaxFrameBody);
                if (!_reader.IsComplete)
                {
                    return OssuaryStatus.NeedMoreInput;
                }
                ConnectionPhase next = ReceiveHandshakeFrame(_reader.Body);
                _reader.Reset();
                _phase = next;
            }
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            OssuaryException error = Fail(e as OssuaryException
                ?? new OssuaryException(OssuaryErrorCode.InternalError, $"Internal error while processing input: {e.GetType().Name}.", e), onReceivingSide: true);
            if (written > 0)
            {
                // Plaintext from earlier, authentic records of this call is already in the caller's span: hand it over
                // rather than lose it; the next call reports the failure. Input after the failing frame is discarded.
                consumed = source.Length;
                return OssuaryStatus.NeedMoreInput;
            }
            throw error;
        }
    }

    /// <summary>
    /// Like <see cref="Receive(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>, writing all the plaintext the input
    /// holds into <paramref name="writer"/> (an <c>ArrayBufferWriter</c>, a pooled <c>ArrayPoolBufferWriter</c>, a
    /// pipe): the caller need not size a buffer or loop on <see cref="OssuaryStatus.DestinationTooSmall"/>.
    /// </summary>
    /// <param name="source">Bytes received from the peer, in any chunking.</param>
    /// <param name="writer">Where plaintext goes; it is asked for spans of at least a record's plaintext.</param>
    /// <param name="consumed">How many bytes of <paramref name="source"/> were used; the caller presents the rest again.</param>
    /// <returns>
    /// <see cref="OssuaryStatus.NeedMoreInput"/> when all input was used, or what stopped it first, as for the span
    /// overload: <see cref="OssuaryStatus.OutputPending"/>, <see cref="OssuaryStatus.PeerVerificationRequired"/> or
    /// <see cref="OssuaryStatus.Closed"/>. Never <see cref="OssuaryStatus.DestinationTooSmall"/>.
    /// </returns>
    /// <exception cref="OssuaryException">Any protocol, authentication or trust failure; the connection is then failed for good.</exception>
    public OssuaryStatus Receive(ReadOnlySpan<byte> source, IBufferWriter<byte> writer, out int consumed)
    {
        ArgumentNullException.ThrowIfNull(writer);
        consumed = 0;
        int hint = Math.Clamp(source.Length, 256, MaxRecordPayload);
        while (true)
        {
            Span<byte> span = writer.GetSpan(hint);
            OssuaryStatus status = Receive(source[consumed..], span, out int used, out int written);
            writer.Advance(written);
            consumed += used;
            if (status != OssuaryStatus.DestinationTooSmall)
            {
                return status;
            }
            hint = Math.Max(RequiredDestinationSize, 1);
        }
    }

    /// <summary>
    /// During the peer's first frame (the only frame a client receives in its handshake; the clear header for a
    /// server), fails at once, saying what the peer speaks, when its first bytes are HTTP, SSH, TLS or anything else
    /// no OssuaryNet peer sends.
    /// </summary>
    private void CheckPeersFirstBytes(ReadOnlySpan<byte> remaining)
    {
        Span<byte> first = stackalloc byte[ForeignProtocol.BytesExamined];
        ForeignProtocol.Check(first[.._reader.PeekStart(remaining, first)], peerIsServer: IsClient, _endpoint);
    }

    /// <summary>
    /// Gives the verdict on <see cref="PeerToVerify"/> and continues the handshake: an accepted peer gets the proof that
    /// lets the connection enter its transport phase (and this side's next handshake message is queued); a rejected one
    /// fails the connection (and the peer is sent the <c>PeerRejected</c> alert).
    /// </summary>
    /// <exception cref="InvalidOperationException">No verification is pending.</exception>
    /// <exception cref="OssuaryException">The verdict rejected the peer, continuing the handshake failed, or the
    /// connection had already failed (e.g. its handshake deadline passed while the verdict was awaited).</exception>
    public void CompletePeerVerification(PeerVerdict verdict)
    {
        ThrowIfUnusable();
        if (_phase is not AwaitingVerdictPhase awaiting)
        {
            throw new InvalidOperationException("No peer verification is pending on this connection.");
        }
        try
        {
            OssuaryTelemetry.Verified(verdict.IsAccepted);
            if (!verdict.IsAccepted)
            {
                throw new OssuaryException(verdict.ErrorCode == default ? OssuaryErrorCode.PeerRejected : verdict.ErrorCode,
                    verdict.Reason ?? $"The peer with fingerprint {awaiting.Peer.PublicKey.Fingerprint} was rejected.", verdict.Failure);
            }
            _phase = ContinueAfterVerification(awaiting, Trust.VerifiedPeer.FromAcceptedVerdict(awaiting.Peer, verdict));
        }
        catch (OssuaryException e)
        {
            throw Fail(e);
        }
    }

    /// <summary>
    /// Tells the connection the time on the caller's clock. At or after the handshake deadline, an unfinished
    /// handshake (including one paused for verification) fails with <see cref="OssuaryErrorCode.HandshakeTimeout"/>.
    /// </summary>
    /// <returns>True when this call failed the connection.</returns>
    public bool HandleTimeout(TimeSpan now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (NextTimeout is not { } deadline || now < deadline)
        {
            return false;
        }
        Fail(new OssuaryException(OssuaryErrorCode.HandshakeTimeout, $"The handshake did not complete within {_settings.HandshakeTimeout.TotalSeconds:0.###} s."));
        return true;
    }

    /// <summary>
    /// Writes the bytes to transmit into <paramref name="destination"/>: first any queued handshake or control frames,
    /// then <paramref name="source"/> sealed into records (split at the record size limit).
    /// </summary>
    /// <param name="source">Plaintext to send; may be empty to only drain queued frames.</param>
    /// <param name="destination">Where the bytes to transmit go.</param>
    /// <param name="consumed">How much of <paramref name="source"/> was sealed; only whole records are ever produced.</param>
    /// <param name="written">How many bytes to transmit were written.</param>
    /// <returns>
    /// <see cref="OssuaryStatus.Done"/> when everything was written; <see cref="OssuaryStatus.DestinationTooSmall"/>
    /// (with <see cref="RequiredDestinationSize"/>) when the rest did not fit; <see cref="OssuaryStatus.HandshakeInProgress"/>
    /// when plaintext was given before the handshake completed (nothing of it consumed).
    /// </returns>
    /// <exception cref="OssuaryException">The connection has failed (once any pending alert is drained).</exception>
    /// <exception cref="InvalidOperationException">Plaintext given after <see cref="Close"/>.</exception>
    public OssuaryStatus Send(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        consumed = 0;
        written = 0;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_senderMustDiscard)
        {
            _senderMustDiscard = false;
            _output.DiscardUnsent();
        }
        ConnectionPhase phase = _phase;
        if (phase is EstablishedPhase owing && _failure is null)
        {
            try
            {
                owing.Sender.QueueOwedPongs();
            }
            catch (OssuaryException e)
            {
                Fail(e);
            }
        }
        written = _output.Drain(destination);
        if (_output.Count > 0)
        {
            RequiredDestinationSize = _output.Count;
            return OssuaryStatus.DestinationTooSmall;
        }
        _inputBlockedByOutput = false;
        if (_failure is not null)
        {
            // A failed connection may still owe the peer a clear alert; once it is out, the failure is reported.
            return written > 0 && source.IsEmpty ? OssuaryStatus.Done : throw Sticky();
        }
        if (source.IsEmpty)
        {
            return OssuaryStatus.Done;
        }
        if (phase is not EstablishedPhase established)
        {
            return OssuaryStatus.HandshakeInProgress;
        }
        if (established.Sender.IsLocalClosed)
        {
            throw new InvalidOperationException("This side has closed its sending direction.");
        }
        try
        {
            OssuaryStatus status = established.Sender.SealData(source, destination, ref consumed, ref written, out int required);
            RequiredDestinationSize = required;
            return status;
        }
        catch (OssuaryException e)
        {
            throw Fail(e);
        }
    }

    /// <summary>Like <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>, writing everything into <paramref name="writer"/>.</summary>
    /// <returns><see cref="OssuaryStatus.Done"/>, or <see cref="OssuaryStatus.HandshakeInProgress"/> as above.</returns>
    public OssuaryStatus Send(ReadOnlySpan<byte> source, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        int hint = source.IsEmpty ? 256 : GetFrameSize(Math.Min(source.Length, MaxSendPayload)) + _settings.PaddingBlockSize;
        while (true)
        {
            Span<byte> span = writer.GetSpan(Math.Max(hint, 1));
            OssuaryStatus status = Send(source, span, out int consumed, out int written);
            writer.Advance(written);
            source = source[consumed..];
            if (status != OssuaryStatus.DestinationTooSmall)
            {
                return status;
            }
            hint = RequiredDestinationSize;
        }
    }

    /// <summary>
    /// Tells the connection that the transport delivered its last byte (end of stream). That is a clean end only
    /// after the peer's authenticated close; otherwise the stream was cut short, and the connection fails with
    /// <see cref="OssuaryErrorCode.Truncated"/> (a bare end of stream is never reported as a clean end).
    /// </summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.Truncated"/>, or the connection's earlier failure.</exception>
    public void CompleteInput()
    {
        ThrowIfUnusable();
        if (IsRemoteClosed)
        {
            return;
        }
        string where = _phase is not EstablishedPhase established ? "during the handshake"
            : established.Receiver.HoldsPartialInput ? "in the middle of a record" : "without an authenticated close";
        throw Fail(new OssuaryException(OssuaryErrorCode.Truncated, $"The transport ended {where}; the data may have been cut short."), onReceivingSide: true);
    }

    /// <summary>
    /// Queues an authenticated close of this side's sending direction (a half-close: the peer may keep sending
    /// until it closes too). Idempotent. Drain it with <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The handshake has not completed.</exception>
    public void Close()
    {
        EstablishedPhase established = RequireEstablished();
        try
        {
            if (!established.Sender.IsLocalClosed)
            {
                established.Sender.QueueClose();
            }
        }
        catch (OssuaryException e)
        {
            throw Fail(e);
        }
    }

    /// <summary>Queues an in-band key update: this side's sending key is replaced at once, with no round trip.</summary>
    /// <exception cref="InvalidOperationException">The handshake has not completed, or this side has closed.</exception>
    public void RequestKeyUpdate()
    {
        EstablishedPhase established = RequireOpenForSending();
        try
        {
            established.Sender.QueueKeyUpdate();
        }
        catch (OssuaryException e)
        {
            throw Fail(e);
        }
    }

    /// <summary>Queues a ping (at most 64 bytes of opaque data, echoed by the peer's pong), e.g. as a keep-alive.</summary>
    /// <exception cref="ArgumentException">More than 64 bytes of data.</exception>
    /// <exception cref="InvalidOperationException">The handshake has not completed, or this side has closed.</exception>
    public void Ping(ReadOnlySpan<byte> data)
    {
        if (data.Length > Records.RecordReceiver.MaxPingData)
        {
            throw new ArgumentException($"Ping data is limited to {Records.RecordReceiver.MaxPingData} bytes.", nameof(data));
        }
        EstablishedPhase established = RequireOpenForSending();
        try
        {
            established.Sender.QueuePing(data);
        }
        catch (OssuaryException e)
        {
            throw Fail(e);
        }
    }

    /// <summary>Wipes all keys and returns buffers (clearing any plaintext in them).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        StopCountingAsActive();
        HandshakeOf(_phase)?.Dispose();
        Established?.Dispose();
        _reader.Dispose();
        _output.Dispose();
    }

    private EstablishedPhase RequireEstablished()
    {
        ThrowIfUnusable();
        return _phase as EstablishedPhase ?? throw new InvalidOperationException("The handshake has not completed.");
    }

    private EstablishedPhase RequireOpenForSending()
    {
        EstablishedPhase established = RequireEstablished();
        return established.Sender.IsLocalClosed ? throw new InvalidOperationException("This side has closed its sending direction.") : established;
    }

    /// <summary>
    /// Fails the connection for good; the first failure wins. Invariant: from here on the connection emits nothing but
    /// the rest of a frame already partly drained and, during the handshake, at most one clear alert
    /// (<see cref="Alerts.For"/>); every frame queued or half-built before the failure is wiped, never sent.
    /// In the transport phase each half cleans up only what it owns, since the other may be running on another
    /// thread: <paramref name="onReceivingSide"/> says which half the caller is.
    /// </summary>
    private OssuaryException Fail(OssuaryException error, bool onReceivingSide = false)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is not null)
        {
            return error;
        }
        ConnectionPhase phase = _phase;
        if (phase is EstablishedPhase established)
        {
            OssuaryTelemetry.ConnectionFailed(IsClient, error.ErrorCode);
            StopCountingAsActive();
            if (onReceivingSide)
            {
                // Another thread may be sending: the sender discards its own queue before it sends anything else.
                _senderMustDiscard = true;
                established.Receiver.Discard();
            }
            else
            {
                // The receiver's buffer (possibly in use on another thread) is wiped at Dispose; a failed
                // connection releases nothing more from it.
                _output.DiscardUnsent();
            }
            _phase = new FailedPhase(error, established);
            return error;
        }
        OssuaryTelemetry.HandshakeFailed(IsClient, Pattern, error.ErrorCode);
        HandshakeOf(phase)?.Dispose();
        _output.DiscardUnsent();
        if (Alerts.For(error) is { } alert)
        {
            QueueAlert(alert);
        }
        _reader.Reset();
        _phase = new FailedPhase(error, null);
        return error;
    }

    /// <summary>Counts the connection as active once its handshake completed (see <see cref="OssuaryTelemetry"/>).</summary>
    private void StartCountingAsActive(OssuaryHandshakePattern pattern, OssuarySuite suite)
    {
        if (Interlocked.CompareExchange(ref _activeCount, 1, 0) == 0)
        {
            OssuaryTelemetry.HandshakeCompleted(IsClient, pattern, suite);
        }
    }

    private void StopCountingAsActive()
    {
        if (Interlocked.CompareExchange(ref _activeCount, 2, 1) == 1)
        {
            OssuaryTelemetry.ConnectionEnded(IsClient);
        }
    }

    /// <summary>The Noise handshake a handshake phase holds (its secrets are wiped by its Dispose), or null.</summary>
    private static HandshakeState? HandshakeOf(ConnectionPhase phase) => phase switch
    {
        HandshakingPhase handshaking => handshaking.Noise,
        AwaitingVerdictPhase awaiting => awaiting.Noise,
        _ => null,
    };

    private OssuaryException Sticky() =>
        new(_failure!.ErrorCode, $"The connection has failed: {_failure.Message}", _failure);

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw Sticky();
        }
    }
}
