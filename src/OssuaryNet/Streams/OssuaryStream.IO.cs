using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using OssuaryNet.Streams;
using OssuaryNet.Telemetry;
using OssuaryNet.Trust;

namespace OssuaryNet;

// The I/O loops of OssuaryStream, written once for sync and async callers (TAdapter).
// The methods a read or write goes through in steady state use pooled async builders (as SslStream does): a call
// that has to wait for the inner stream then reuses a state-machine box instead of allocating one.
//
// Ownership, which replaces locking on the data path:
// - The reader (at most one read at a time, _reading) owns the connection's receiving half and the read buffer.
// - Whoever holds _writeGate owns the sending half and the inner stream's write side: the writer's records, the
//   handshake, and pongs or alerts sent on the reader's behalf. Whole frames reach the inner stream in order.
// - The halves share only the connection's bounded queue of owed pongs, so sealing and opening run on two cores at once.
// - _users counts the operations inside the connection; Dispose releases the connection (wiping its keys) only
//   once none is, so no key is wiped under a running cipher.
public sealed partial class OssuaryStream
{
    private const int ReadBufferSize = 64 * 1024 + 1024;
    private const int MaxWriteBatch = 256 * 1024;

    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private volatile bool _authenticated;
    private int _reading, _writing;
    private int _users, _released;
    private volatile bool _writeBroken;

    // Received bytes not yet consumed by the connection; owned by the reader. The buffer is rented only while bytes
    // wait in it or a read is in progress.
    private byte[]? _readBuffer;
    private int _readStart, _readEnd;
    private readonly bool _zeroByteReads;

    /// <summary>Authenticates as the client (initiator).</summary>
    /// <param name="options">Client settings (key pair, verifier, pinned server key for IK, ...). A verifier with a key on
    /// record for <paramref name="serverName"/> (<see cref="KnownHosts"/>) makes the handshake IK with that key.</param>
    /// <param name="serverName">The server's endpoint name ("host:port"), given to the peer verifier; known hosts are keyed by it.</param>
    /// <param name="cancellationToken">Cancels the handshake; the stream is then unusable.</param>
    /// <exception cref="OssuaryException">Handshake, trust or protocol failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    /// <exception cref="ArgumentException">Invalid options, or a <see cref="KnownHosts"/> verifier without <paramref name="serverName"/>: at the call, before anything is sent.</exception>
    public Task AuthenticateAsClientAsync(OssuaryClientOptions options, string? serverName = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateForConnection(serverName);
        return AuthenticateCoreAsync<AsyncStreamAdapter>(now => OssuaryConnection.CreateClient(options, serverName, now, HandshakeTimeout), cancellationToken).AsTask();
    }

    /// <summary>Authenticates as the server (responder).</summary>
    /// <param name="options">Server settings.</param>
    /// <param name="clientEndpoint">The client's endpoint (e.g. its address), given to the peer verifier.</param>
    /// <param name="cancellationToken">Cancels the handshake; the stream is then unusable.</param>
    /// <exception cref="OssuaryException">Handshake, trust or protocol failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    public Task AuthenticateAsServerAsync(OssuaryServerOptions options, string? clientEndpoint = null, CancellationToken cancellationToken = default) =>
        AuthenticateCoreAsync<AsyncStreamAdapter>(now => OssuaryConnection.CreateServer(options, clientEndpoint, now, HandshakeTimeout), cancellationToken).AsTask();

    /// <summary>Synchronous <see cref="AuthenticateAsClientAsync"/>.</summary>
    public void AuthenticateAsClient(OssuaryClientOptions options, string? serverName = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateForConnection(serverName);
        AuthenticateCoreAsync<SyncStreamAdapter>(now => OssuaryConnection.CreateClient(options, serverName, now, HandshakeTimeout), default).GetAwaiter().GetResult();
    }

    /// <summary>Synchronous <see cref="AuthenticateAsServerAsync"/>.</summary>
    public void AuthenticateAsServer(OssuaryServerOptions options, string? clientEndpoint = null) =>
        AuthenticateCoreAsync<SyncStreamAdapter>(now => OssuaryConnection.CreateServer(options, clientEndpoint, now, HandshakeTimeout), default).GetAwaiter().GetResult();

    /// <summary>The stream's monotonic clock, as the connection's time: elapsed since the stream was created.</summary>
    private TimeSpan Now() => TimeProvider.GetElapsedTime(_clockOrigin);

    private async ValueTask AuthenticateCoreAsync<TAdapter>(Func<TimeSpan, OssuaryConnection> create, CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        ThrowIfDisposed();
        if (Interlocked.CompareExchange(ref _connection, create(Now()), null) is not null)
        {
            throw new InvalidOperationException("Authentication has already been attempted on this stream.");
        }
        OssuaryConnection connection = _connection;
        Enter();
        // From here the finally below ends the span and records the duration, whatever happens.
        long started = TimeProvider.GetTimestamp();
        Activity? activity = OssuaryTelemetry.StartHandshake(connection.IsClient, connection.Endpoint);
        Exception? failure = null;
        // The connection's own deadline (NextTimeout) bounds everything below, the pause for the verifier included.
        TimeSpan? deadline = connection.NextTimeout;
        using var timer = deadline is { } due ? new CancellationTokenSource(Max(due - Now(), TimeSpan.Zero), TimeProvider) : new CancellationTokenSource();
        // Linked only when the caller's token can fire: sockets keep the token of their last pending read, so an
        // unneeded linked source would stay reachable from an idle connection.
        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token) : null;
        CancellationToken timeout = linked?.Token ?? timer.Token;
        Volatile.Write(ref _reading, 1); // the handshake reads: no read may start before it ends
        // A blocking read cannot observe a token, so on timeout the sync path closes the inner stream to unblock it.
        using CancellationTokenRegistration unblock = TAdapter.IsAsync ? default : timeout.Register(() => _inner.Dispose());
        try
        {
            while (true)
            {
                await SendPendingAsync<TAdapter>(timeout).ConfigureAwait(false);
                if (connection.State != OssuaryConnectionState.Handshaking)
                {
                    break;
                }
                if (connection.PeerToVerify is { } peer)
                {
                    // Outside every lock and off the connection: the verdict may take a file, a database or a person.
                    PeerVerdict verdict = await JudgeAsync<TAdapter>(connection.PeerVerifier, peer, timeout).ConfigureAwait(false);
                    connection.CompletePeerVerification(verdict);
                    continue;
                }
                await ReceiveMoreAsync<TAdapter>(timeout).ConfigureAwait(false);
                ReceiveHandshakeBytes(connection);
            }
            if (connection.Failure is { } failed)
            {
                throw failed;
            }
            _authenticated = true;
            StartLivenessTimer();
        }
        catch (Exception e) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                   && e is OperationCanceledException or IOException and not OssuaryException or ObjectDisposedException
                                        or OssuaryException { ErrorCode: OssuaryErrorCode.Truncated })
        {
            connection.HandleTimeout(Max(Now(), deadline!.Value));
            failure = new OssuaryException(OssuaryErrorCode.HandshakeTimeout, connection.Failure?.Message ?? "The handshake did not complete in time.", e);
            throw failure;
        }
        catch (OssuaryException e)
        {
            failure = e;
            await TrySendAlertAsync<TAdapter>().ConfigureAwait(false);
            throw;
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            OssuaryTelemetry.EndHandshake(activity, connection, TimeProvider.GetElapsedTime(started), _authenticated ? null : failure);
            if (!_authenticated || _readStart == _readEnd)
            {
                ReleaseReadBuffer();
            }
            Volatile.Write(ref _reading, 0);
            Exit();
        }
    }

    /// <summary>Asks the verifier; its exception is a rejection, and the deadline abandons a verifier that ignores its token.</summary>
    private static async ValueTask<PeerVerdict> JudgeAsync<TAdapter>(PeerVerifier verifier, PeerIdentity peer, CancellationToken timeout)
        where TAdapter : IStreamAdapter
    {
        try
        {
            ValueTask<PeerVerdict> pending = verifier.VerifyAsync(peer, timeout);
            if (pending.IsCompletedSuccessfully)
            {
                return pending.Result;
            }
            Task<PeerVerdict> verdict = pending.AsTask().WaitAsync(timeout);
            return TAdapter.IsAsync ? await verdict.ConfigureAwait(false) : verdict.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return PeerVerdict.VerifierFailed(e);
        }
    }

    /// <summary>Feeds the buffered bytes to the handshake; records that arrive with its last message stay buffered.</summary>
    private void ReceiveHandshakeBytes(OssuaryConnection connection)
    {
        connection.Receive(_readBuffer.AsSpan(_readStart, _readEnd - _readStart), Span<byte>.Empty, out int consumed, out _);
        _readStart += consumed;
        if (!connection.IsClient && connection.Pattern is not null && FirstHandshakeFrameReceived is { } firstFrame)
        {
            FirstHandshakeFrameReceived = null;
            firstFrame();
        }
    }

    /// <summary>Opens buffered records into <paramref name="destination"/>.</summary>
    private OssuaryStatus ReceiveBuffered(Span<byte> destination, out int written)
    {
        OssuaryStatus status = _connection!.Receive(_readBuffer.AsSpan(_readStart, _readEnd - _readStart), destination, out int consumed, out written);
        _readStart += consumed;
        return status;
    }

    /// <summary>Rents the read buffer if needed, moves unread bytes to its start, and returns its free part.</summary>
    private Memory<byte> PrepareReadBuffer()
    {
        ThrowIfDisposed();
        _readBuffer ??= ArrayPool<byte>.Shared.Rent(ReadBufferSize);
        if (_readStart == _readEnd)
        {
            _readStart = _readEnd = 0;
        }
        else if (_readStart > 0)
        {
            _readBuffer.AsSpan(_readStart, _readEnd - _readStart).CopyTo(_readBuffer);
            _readEnd -= _readStart;
            _readStart = 0;
        }
        return _readBuffer.AsMemory(_readEnd);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadCoreAsync<TAdapter>(Memory<byte> destination, CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        ThrowIfDisposed();
        ThrowIfNotAuthenticated();
        if (destination.IsEmpty)
        {
            return 0;
        }
        if (Interlocked.Exchange(ref _reading, 1) != 0)
        {
            throw new NotSupportedException("Another read is already in progress on this OssuaryStream; one read may run at a time (concurrently with one write).");
        }
        try
        {
            Enter();
            try
            {
                while (true)
                {
                    OssuaryStatus status = ReceiveBuffered(destination.Span, out int written);
                    if (_connection!.HasPendingOutput)
                    {
                        try
                        {
                            await SendPendingFromReaderAsync<TAdapter>(mustSend: status == OssuaryStatus.OutputPending, cancellationToken).ConfigureAwait(false);
                        }
                        catch (Exception) when (written > 0)
                        {
                            // Authentic plaintext is in the caller's buffer: hand it over; the next call meets the failure.
                        }
                    }
                    if (written > 0)
                    {
                        return written;
                    }
                    if (status == OssuaryStatus.Closed)
                    {
                        return 0;
                    }
                    if (status == OssuaryStatus.NeedMoreInput && !await ReceiveMoreAsync<TAdapter>(cancellationToken).ConfigureAwait(false))
                    {
                        _connection.CompleteInput(); // a clean end only after the peer's close; otherwise Truncated
                        return 0;
                    }
                }
            }
            finally
            {
                if (_readStart == _readEnd)
                {
                    ReleaseReadBuffer();
                }
                Exit();
            }
        }
        catch (Exception e) when (IdleAware(e))
        {
            throw IdleTimeoutError(e);
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Reads more bytes from the inner stream into the read buffer; false at the inner end of stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReceiveMoreAsync<TAdapter>(CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        if (_zeroByteReads && TAdapter.IsAsync && _readBuffer is null)
        {
            // Wait for data without holding a buffer (as SslStream does): an idle connection with a read pending then
            // costs no 64 KiB buffer. Sockets complete a zero-byte read when data (or the end) arrives.
            await TAdapter.ReadAsync(_inner, Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        Memory<byte> free = PrepareReadBuffer();
        int read = await TAdapter.ReadAsync(_inner, free, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            if (_connection!.State == OssuaryConnectionState.Handshaking)
            {
                _connection.CompleteInput();
            }
            return false;
        }
        _readEnd += read;
        NoteReceived();
        return true;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteCoreAsync<TAdapter>(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        ThrowIfDisposed();
        ThrowIfNotAuthenticated();
        if (source.IsEmpty)
        {
            return;
        }
        if (Interlocked.Exchange(ref _writing, 1) != 0)
        {
            throw new NotSupportedException("Another write is already in progress on this OssuaryStream; one write may run at a time (concurrently with one read).");
        }
        try
        {
            Enter();
            try
            {
                await TAdapter.WaitAsync(_writeGate, cancellationToken).ConfigureAwait(false);
                byte[] buffer = ArrayPool<byte>.Shared.Rent(WriteBufferSize(source.Length));
                try
                {
                    while (!source.IsEmpty)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        ThrowIfWriteBroken();
                        _connection!.Send(source.Span, buffer, out int consumed, out int written);
                        source = source[consumed..];
                        await WriteInnerAsync<TAdapter>(buffer.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                    }
                    await TAdapter.FlushAsync(_inner, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    // No clearing: records are sealed in place, so once written the buffer holds only ciphertext.
                    ArrayPool<byte>.Shared.Return(buffer);
                    _writeGate.Release();
                }
                // Pongs the reader queued while this write held the gate.
                await SendPendingIfIdleAsync<TAdapter>().ConfigureAwait(false);
            }
            finally
            {
                Exit();
            }
        }
        catch (Exception e) when (IdleAware(e))
        {
            throw IdleTimeoutError(e);
        }
        finally
        {
            Volatile.Write(ref _writing, 0);
        }
    }

    private int WriteBufferSize(int plaintextLength)
    {
        int payload = Math.Max(_connection!.MaxSendPayload, 1);
        int frame = OssuaryConnection.GetFrameSize(payload) + 4096; // room for padding and queued control frames
        long all = (long)plaintextLength + (plaintextLength / payload + 1) * (long)OssuaryConnection.GetFrameSize(0);
        return (int)Math.Max(frame, Math.Min(all + 4096, MaxWriteBatch));
    }

    private async ValueTask ShutdownCoreAsync<TAdapter>(CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        ThrowIfDisposed();
        ThrowIfNotAuthenticated();
        Enter();
        try
        {
            await TAdapter.WaitAsync(_writeGate, cancellationToken).ConfigureAwait(false);
            try
            {
                ThrowIfWriteBroken();
                _connection!.Close();
                await DrainPendingAsync<TAdapter>(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeGate.Release();
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Sends all queued frames of the connection, holding the write gate.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendPendingAsync<TAdapter>(CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        await TAdapter.WaitAsync(_writeGate, cancellationToken).ConfigureAwait(false);
        try
        {
            await DrainPendingAsync<TAdapter>(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>
    /// The reader queued pongs. If a writer holds the gate it sends them with its next records or right after; the
    /// reader sends them itself when the gate is free, and waits for the gate only when the connection refuses more input.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendPendingFromReaderAsync<TAdapter>(bool mustSend, CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        if (mustSend)
        {
            await SendPendingAsync<TAdapter>(cancellationToken).ConfigureAwait(false);
            return;
        }
        await SendPendingIfIdleAsync<TAdapter>().ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendPendingIfIdleAsync<TAdapter>()
        where TAdapter : IStreamAdapter
    {
        while (_disposed == 0 && _connection!.HasPendingOutput && _writeGate.Wait(0))
        {
            try
            {
                await DrainPendingAsync<TAdapter>(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _writeGate.Release();
            }
        }
    }

    /// <summary>Moves queued frames (handshake, pongs, alerts, close) to the inner stream. The caller holds the write gate.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DrainPendingAsync<TAdapter>(CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (_connection!.HasPendingOutput)
            {
                ThrowIfWriteBroken();
                _connection.Send(default, buffer, out _, out int written);
                await WriteInnerAsync<TAdapter>(buffer.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
                await TAdapter.FlushAsync(_inner, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>Writes sealed bytes. If this is interrupted, part of a record may be on the wire: the write side is closed for good.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteInnerAsync<TAdapter>(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        if (bytes.IsEmpty)
        {
            return;
        }
        try
        {
            await TAdapter.WriteAsync(_inner, bytes, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _writeBroken = true;
            throw;
        }
    }

    private async ValueTask TrySendAlertAsync<TAdapter>()
        where TAdapter : IStreamAdapter
    {
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await SendPendingAsync<TAdapter>(quick.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or OssuaryException or NotSupportedException or InvalidOperationException)
        {
            // Best effort: the peer may already be gone, and the local error is what matters.
        }
    }

    /// <summary>Marks an operation inside the connection; throws if the stream is disposed.</summary>
    private void Enter()
    {
        Interlocked.Increment(ref _users);
        if (_disposed != 0)
        {
            Exit();
            ThrowIfDisposed();
        }
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0 && _disposed != 0)
        {
            ReleaseConnection();
        }
    }

    /// <summary>Wipes the connection's keys and returns the read buffer, once: when disposed and no operation is inside.</summary>
    private void ReleaseConnection()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _connection?.Dispose();
            ReleaseReadBuffer();
        }
    }

    private void ReleaseReadBuffer()
    {
        if (_readBuffer is not null)
        {
            // Not cleared: it holds only ciphertext (the connection decrypts into the caller's buffer or its own).
            ArrayPool<byte>.Shared.Return(_readBuffer);
            _readBuffer = null;
        }
        _readStart = _readEnd = 0;
    }

    private void ThrowIfNotAuthenticated()
    {
        if (!_authenticated)
        {
            throw new InvalidOperationException("The stream is not authenticated: call AuthenticateAsClientAsync or AuthenticateAsServerAsync first.");
        }
    }

    private void ThrowIfWriteBroken()
    {
        if (_writeBroken)
        {
            throw new InvalidOperationException("An earlier write was interrupted in the middle of a record, so nothing more can be written to this stream.");
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
