using System.Buffers;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;

namespace OssuaryNet;

/// <summary>
/// A secure channel as a sans-I/O state machine: encrypted bytes in, plaintext out; plaintext in, encrypted bytes
/// out. It never touches a socket, a clock or a thread; the caller moves the bytes.
/// </summary>
/// <remarks>
/// <para>The caller's loop: hand received bytes to <see cref="Receive"/>, which consumes them in any chunking and
/// writes plaintext into the caller's span; whenever <see cref="HasPendingOutput"/> is true (and to send plaintext),
/// call <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>, which writes the bytes to transmit into the caller's span. Partial frames are buffered
/// inside, so feeding one byte at a time gives the same result as feeding the whole transcript.</para>
/// <para>Errors are sticky: the first fatal <see cref="OssuaryException"/> is kept, <see cref="State"/> becomes
/// <see cref="OssuaryConnectionState.Failed"/>, and every later <see cref="Receive"/> or <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>
/// throws an exception with the same code (after <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> has drained a pending clear alert, if any).
/// A record that fails authentication releases no plaintext and advances no state.</para>
/// <para>One thread may call <see cref="Receive"/> while another calls <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> only if the caller
/// serialises them; the connection itself is not thread-safe.</para>
/// </remarks>
public sealed partial class OssuaryConnection : IDisposable
{
    private readonly OssuaryOptions _options;
    private readonly string? _endpoint;
    private readonly OutputQueue _output = new();
    private readonly FrameReader _reader = new();
    private OssuaryException? _failure;
    private bool _disposed;

    // While a handshake reply or a pong waits to be sent, no more input is consumed, so a peer cannot make the
    // queue grow without bound by sending requests faster than the caller drains answers.
    private bool _inputBlockedByOutput;

    // Plaintext decrypted into the reader's buffer that did not fit the caller's span yet.
    private int _plaintextStart, _plaintextEnd;

    private OssuaryConnection(OssuaryOptions options, bool isClient, string? endpoint)
    {
        options.Validate();
        _options = options;
        IsClient = isClient;
        _endpoint = endpoint;
        LocalPublicKey = options.StaticKeyPair!.PublicKey;
    }

    /// <summary>Creates the initiating side; its first handshake frame is queued at once (see <see cref="HasPendingOutput"/>).</summary>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="serverName">The server's endpoint name (e.g. "host:port"), passed to the peer verifier (known hosts are keyed by it).</param>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.InvalidOperation"/> for invalid options.</exception>
    public static OssuaryConnection CreateClient(OssuaryClientOptions options, string? serverName = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var connection = new OssuaryConnection(options, isClient: true, serverName);
        connection.StartClientHandshake(options);
        return connection;
    }

    /// <summary>Creates the responding side; it waits for the client's first frame.</summary>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="clientEndpoint">The client's endpoint (e.g. its address), passed to the peer verifier.</param>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.InvalidOperation"/> for invalid options.</exception>
    public static OssuaryConnection CreateServer(OssuaryServerOptions options, string? clientEndpoint = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new OssuaryConnection(options, isClient: false, clientEndpoint);
    }

    /// <summary>True for the initiating side.</summary>
    public bool IsClient { get; }

    /// <summary>Where the connection is in its life cycle.</summary>
    public OssuaryConnectionState State =>
        _failure is not null ? OssuaryConnectionState.Failed
        : _transport is null ? OssuaryConnectionState.Handshaking
        : IsLocalClosed && IsRemoteClosed ? OssuaryConnectionState.Closed
        : OssuaryConnectionState.Established;

    /// <summary>The fatal error that failed the connection, or null.</summary>
    public OssuaryException? Failure => _failure;

    /// <summary>True once this side has queued its authenticated close.</summary>
    public bool IsLocalClosed { get; private set; }

    /// <summary>True once the peer's authenticated close has been received.</summary>
    public bool IsRemoteClosed { get; private set; }

    /// <summary>True when <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/> has bytes to transmit even with no new plaintext.</summary>
    public bool HasPendingOutput => _output.Count > 0;

    /// <summary>After <see cref="OssuaryStatus.DestinationTooSmall"/>: the destination size that lets the call make progress.</summary>
    public int RequiredDestinationSize { get; private set; }

    /// <summary>This side's static public key.</summary>
    public OssuaryPublicKey LocalPublicKey { get; }

    /// <summary>The peer's verified static public key, once the handshake has completed.</summary>
    public OssuaryPublicKey? RemotePublicKey { get; private set; }

    /// <summary>The handshake pattern in use (known to the server after the first frame).</summary>
    public OssuaryHandshakePattern? Pattern { get; private set; }

    /// <summary>The cipher suite in use (known to the server after the first frame).</summary>
    public OssuarySuite? Suite { get; private set; }

    /// <summary>The negotiated application protocol, or null.</summary>
    public string? ApplicationProtocol { get; private set; }

    /// <summary>Server side: early data received in an IK first message (replayable!), or empty.</summary>
    public ReadOnlyMemory<byte> EarlyData { get; private set; }

    /// <summary>
    /// The Noise handshake hash: unique to this session and identical on both sides, for channel binding
    /// (e.g. sign it with another credential). Empty until the handshake completes.
    /// </summary>
    public ReadOnlySpan<byte> HandshakeHash => _transport is null ? default : _transport.HandshakeHash;

    /// <summary>The largest payload this side puts in one record (the smaller of the peer's limit and the 65518-byte maximum).</summary>
    public int MaxSendPayload => _sendMaxPayload;

    /// <summary>The largest payload one record can carry (65535 - 1 type byte - 16 tag bytes).</summary>
    public const int MaxRecordPayload = WireFormat.MaxRecordPayload;

    /// <summary>A frame's size on the wire for a payload of <paramref name="payloadLength"/> bytes (before padding).</summary>
    public static int GetFrameSize(int payloadLength) => payloadLength + WireFormat.RecordOverhead;

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
    /// when a reply must be sent first; <see cref="OssuaryStatus.Closed"/> when the peer has closed and everything was delivered;
    /// <see cref="OssuaryStatus.Failed"/> when a later frame failed after authentic plaintext was written (the next call throws).
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
                written += DeliverPendingPlaintext(destination[written..]);
                if (_plaintextEnd > _plaintextStart)
                {
                    RequiredDestinationSize = 1;
                    return OssuaryStatus.DestinationTooSmall;
                }
                if (IsRemoteClosed)
                {
                    return OssuaryStatus.Closed;
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
                if (_transport is not null && written == destination.Length && written > 0)
                {
                    // The destination is full: stop here rather than decrypt into an internal buffer.
                    RequiredDestinationSize = 1;
                    return OssuaryStatus.DestinationTooSmall;
                }
                int maxBody = CurrentMaxFrameBody;
                if (_reader.TryPeekWholeFrame(remaining, maxBody, out int bodyLength))
                {
                    consumed += WireFormat.LengthPrefixSize + bodyLength;
                    ProcessFrame(remaining.Slice(WireFormat.LengthPrefixSize, bodyLength), default, destination, ref written);
                    continue;
                }
                consumed += _reader.Append(remaining, maxBody);
                if (!_reader.IsComplete)
                {
                    return OssuaryStatus.NeedMoreInput;
                }
                Span<byte> body = _reader.Body;
                ProcessFrame(body, body, destination, ref written);
            }
        }
        catch (Exception e)
        {
            OssuaryException error = Fail(e as OssuaryException
                ?? new OssuaryException(OssuaryErrorCode.InternalError, $"Internal error while processing input: {e.GetType().Name}.", e));
            if (written > 0)
            {
                // Plaintext from earlier, authentic records of this call is already in the caller's span: hand it over
                // rather than lose it, and report the failure on the next call.
                return OssuaryStatus.Failed;
            }
            throw error;
        }
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
    /// <exception cref="OssuaryException">The connection has failed (once any pending alert is drained), or
    /// <see cref="OssuaryErrorCode.Closed"/> when plaintext is given after <see cref="Close"/> (not fatal).</exception>
    public OssuaryStatus Send(ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written)
    {
        consumed = 0;
        ObjectDisposedException.ThrowIf(_disposed, this);
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
        if (_transport is null)
        {
            return OssuaryStatus.HandshakeInProgress;
        }
        if (IsLocalClosed)
        {
            throw new OssuaryException(OssuaryErrorCode.Closed, "This side has closed its sending direction.");
        }
        try
        {
            return SealData(source, destination, ref consumed, ref written);
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
        while (true)
        {
            int hint = Math.Max(_output.Count, source.IsEmpty ? 0 : GetFrameSize(Math.Min(source.Length, Math.Max(_sendMaxPayload, 1))) + _options.PaddingBlockSize);
            Span<byte> span = writer.GetSpan(Math.Max(hint, 1));
            OssuaryStatus status = Send(source, span, out int consumed, out int written);
            writer.Advance(written);
            source = source[consumed..];
            if (status != OssuaryStatus.DestinationTooSmall)
            {
                return status;
            }
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
        string where = _transport is null ? "during the handshake" : _reader.IsEmpty ? "without an authenticated close" : "in the middle of a record";
        throw Fail(new OssuaryException(OssuaryErrorCode.Truncated, $"The transport ended {where}; the data may have been cut short."));
    }

    /// <summary>
    /// Queues an authenticated close of this side's sending direction (a half-close: the peer may keep sending
    /// until it closes too). Idempotent. Drain it with <see cref="Send(ReadOnlySpan{byte}, Span{byte}, out int, out int)"/>.
    /// </summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.InvalidOperation"/> before the handshake has completed.</exception>
    public void Close()
    {
        ThrowIfUnusable();
        if (IsLocalClosed)
        {
            return;
        }
        RequireTransport();
        QueueRecord(RecordType.Close, default);
        IsLocalClosed = true;
    }

    /// <summary>Queues an in-band key update: this side's sending key is replaced at once, with no round trip.</summary>
    public void RequestKeyUpdate()
    {
        ThrowIfUnusable();
        RequireTransport();
        if (IsLocalClosed)
        {
            throw new OssuaryException(OssuaryErrorCode.Closed, "This side has closed its sending direction.");
        }
        QueueKeyUpdate();
    }

    /// <summary>Queues a ping (at most 64 bytes of opaque data, echoed by the peer's pong), e.g. as a keep-alive.</summary>
    public void Ping(ReadOnlySpan<byte> data)
    {
        ThrowIfUnusable();
        RequireTransport();
        if (data.Length > MaxPingData)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"Ping data is limited to {MaxPingData} bytes.");
        }
        if (IsLocalClosed)
        {
            throw new OssuaryException(OssuaryErrorCode.Closed, "This side has closed its sending direction.");
        }
        QueueRecord(RecordType.Ping, data);
    }

    /// <summary>Pongs received so far.</summary>
    public long PongsReceived { get; private set; }

    /// <summary>Wipes all keys and returns buffers (clearing any plaintext in them).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _handshake?.Dispose();
        _transport?.Dispose();
        _reader.Dispose();
        _output.Dispose();
    }

    private int DeliverPendingPlaintext(Span<byte> destination)
    {
        int count = Math.Min(_plaintextEnd - _plaintextStart, destination.Length);
        if (count == 0)
        {
            return 0;
        }
        _reader.Body.Slice(_plaintextStart, count).CopyTo(destination);
        _plaintextStart += count;
        if (_plaintextStart == _plaintextEnd)
        {
            _plaintextStart = _plaintextEnd = 0;
            _reader.Reset();
        }
        return count;
    }

    private void ProcessFrame(ReadOnlySpan<byte> body, Span<byte> writableBody, Span<byte> destination, ref int written)
    {
        if (_transport is null)
        {
            ProcessHandshakeFrame(body);
            _reader.Reset();
        }
        else
        {
            OpenRecord(body, writableBody, destination, ref written);
        }
    }

    private void RequireTransport()
    {
        if (_transport is null)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The handshake has not completed.");
        }
    }

    /// <summary>
    /// Fails the connection for good. Invariant: from here on the connection emits nothing but the rest of a frame
    /// already partly drained and at most one clear alert (<see cref="AlertFor"/>); every frame queued or half-built
    /// before the failure is wiped, never sent.
    /// </summary>
    private OssuaryException Fail(OssuaryException error)
    {
        if (_failure is not null)
        {
            return error;
        }
        _failure = error;
        _output.DiscardUnsent();
        if (AlertFor(error) is OssuaryErrorCode alert)
        {
            QueueAlert(alert);
        }
        _reader.Reset();
        _plaintextStart = _plaintextEnd = 0;
        _handshake?.Dispose();
        _handshake = null;
        return error;
    }

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
