using System.Buffers;
using System.Runtime.CompilerServices;
using OssuaryNet.Streams;

namespace OssuaryNet;

// The I/O loops of OssuaryStream, written once for sync and async callers (TAdapter).
// The methods a read or write goes through in steady state use pooled async builders (as SslStream does): a call
// that has to wait for the inner stream then reuses a state-machine box instead of allocating one.
// Locking: _sync guards every call into the connection (CPU only, never held across I/O); _writeGate serialises
// writes to the inner stream (the writer's records, and handshake or pong frames sent on behalf of the reader).
public sealed partial class OssuaryStream
{
    private const int ReadBufferSize = 64 * 1024 + 1024;
    private const int MaxWriteBatch = 256 * 1024;

    private readonly object _sync = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private bool _authenticated;
    private int _reading, _writing;
    private volatile bool _writeBroken;

    // Received bytes not yet consumed by the connection. The buffer is rented only while bytes wait in it or a read
    // is in progress, and is cleared when returned.
    private byte[]? _readBuffer;
    private int _readStart, _readEnd;
    private readonly bool _zeroByteReads;

    /// <summary>Authenticates as the client (initiator).</summary>
    /// <param name="options">Client settings (key pair, verifier, pinned server key for IK, ...).</param>
    /// <param name="serverName">The server's endpoint name ("host:port"), given to the peer verifier; known hosts are keyed by it.</param>
    /// <param name="cancellationToken">Cancels the handshake; the stream is then unusable.</param>
    /// <exception cref="OssuaryException">Handshake, trust or protocol failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    public Task AuthenticateAsClientAsync(OssuaryClientOptions options, string? serverName = null, CancellationToken cancellationToken = default) =>
        AuthenticateCoreAsync<AsyncStreamAdapter>(() => OssuaryConnection.CreateClient(options, serverName), cancellationToken).AsTask();

    /// <summary>Authenticates as the server (responder).</summary>
    /// <param name="options">Server settings.</param>
    /// <param name="clientEndpoint">The client's endpoint (e.g. its address), given to the peer verifier.</param>
    /// <param name="cancellationToken">Cancels the handshake; the stream is then unusable.</param>
    /// <exception cref="OssuaryException">Handshake, trust or protocol failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    public Task AuthenticateAsServerAsync(OssuaryServerOptions options, string? clientEndpoint = null, CancellationToken cancellationToken = default) =>
        AuthenticateCoreAsync<AsyncStreamAdapter>(() => OssuaryConnection.CreateServer(options, clientEndpoint), cancellationToken).AsTask();

    /// <summary>Synchronous <see cref="AuthenticateAsClientAsync"/>.</summary>
    public void AuthenticateAsClient(OssuaryClientOptions options, string? serverName = null) =>
        AuthenticateCoreAsync<SyncStreamAdapter>(() => OssuaryConnection.CreateClient(options, serverName), default).GetAwaiter().GetResult();

    /// <summary>Synchronous <see cref="AuthenticateAsServerAsync"/>.</summary>
    public void AuthenticateAsServer(OssuaryServerOptions options, string? clientEndpoint = null) =>
        AuthenticateCoreAsync<SyncStreamAdapter>(() => OssuaryConnection.CreateServer(options, clientEndpoint), default).GetAwaiter().GetResult();

    private async ValueTask AuthenticateCoreAsync<TAdapter>(Func<OssuaryConnection> create, CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        ThrowIfDisposed();
        if (_connection is not null)
        {
            throw new InvalidOperationException("Authentication has already been attempted on this stream.");
        }
        OssuaryConnection connection = create();
        lock (_sync)
        {
            _connection = connection;
        }

        using var timer = HandshakeTimeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(HandshakeTimeout, TimeProvider);
        // Linked only when the caller's token can fire: sockets keep the token of their last pending read, so an
        // unneeded linked source would stay reachable from an idle connection.
        using CancellationTokenSource? linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token) : null;
        CancellationToken timeout = linked?.Token ?? timer.Token;
        // The handshake uses the read buffer; marking it as a read keeps Dispose from returning that buffer mid-read.
        Volatile.Write(ref _reading, 1);
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
                await ReceiveMoreAsync<TAdapter>(timeout).ConfigureAwait(false);
                ReceiveHandshakeBytes(connection);
            }
            if (connection.State == OssuaryConnectionState.Failed)
            {
                throw connection.Failure!;
            }
            _authenticated = true;
            StartLivenessTimer();
        }
        catch (Exception e) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested
                                   && e is OperationCanceledException or IOException and not OssuaryException or ObjectDisposedException
                                        or OssuaryException { ErrorCode: OssuaryErrorCode.Truncated })
        {
            throw new OssuaryException(OssuaryErrorCode.HandshakeTimeout, $"The handshake did not complete within {HandshakeTimeout.TotalSeconds:0.###} s.", e);
        }
        catch (OssuaryException)
        {
            await TrySendAlertAsync<TAdapter>().ConfigureAwait(false);
            throw;
        }
        finally
        {
            lock (_sync)
            {
                if (!_authenticated || _readStart == _readEnd || _disposed != 0)
                {
                    ReleaseReadBuffer();
                }
            }
            Volatile.Write(ref _reading, 0);
        }
    }

    // Invariant: every lock region that can throw lives in one of the ordinary, non-inlined methods below, never inline
    // in an async method, so that a lock is always released on the thread that took it before any await can run;
    // otherwise an exception could reach an async catch block with the monitor still held and block Dispose forever.

    /// <summary>Feeds the buffered bytes to the handshake; records that arrive with its last message stay in the connection.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReceiveHandshakeBytes(OssuaryConnection connection)
    {
        lock (_sync)
        {
            connection.Receive(_readBuffer.AsSpan(_readStart, _readEnd - _readStart), Span<byte>.Empty, out int consumed, out _);
            _readStart += consumed;
        }
        if (!connection.IsClient && connection.Pattern is not null && FirstHandshakeFrameReceived is { } firstFrame)
        {
            FirstHandshakeFrameReceived = null;
            firstFrame();
        }
    }

    /// <summary>Opens buffered records into <paramref name="destination"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private OssuaryStatus ReceiveBuffered(Span<byte> destination, out int written, out bool owesOutput)
    {
        lock (_sync)
        {
            OssuaryStatus status = _connection!.Receive(_readBuffer.AsSpan(_readStart, _readEnd - _readStart), destination, out int consumed, out written);
            _readStart += consumed;
            owesOutput = _connection.HasPendingOutput;
            return status;
        }
    }

    /// <summary>Tells the connection the inner stream ended (throws Truncated unless the peer closed first).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CompleteInput()
    {
        lock (_sync)
        {
            _connection!.CompleteInput();
        }
    }

    /// <summary>Rents the read buffer if needed, moves unread bytes to its start, and returns its free part.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private Memory<byte> PrepareReadBuffer()
    {
        lock (_sync)
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
    }

    /// <summary>Seals as much of <paramref name="source"/> as fits into <paramref name="buffer"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Seal(ReadOnlySpan<byte> source, byte[] buffer, out int consumed, out int written)
    {
        lock (_sync)
        {
            ThrowIfWriteBroken();
            _connection!.Send(source, buffer, out consumed, out written);
        }
    }

    /// <summary>Queues the close of this side's writing direction.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CloseWriting()
    {
        lock (_sync)
        {
            ThrowIfWriteBroken();
            _connection!.Close();
        }
    }

    /// <summary>Moves queued frames (handshake, pongs, alerts, close) into <paramref name="buffer"/>; false when none wait.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TakePendingOutput(byte[] buffer, out int written)
    {
        lock (_sync)
        {
            written = 0;
            if (_connection is null || !_connection.HasPendingOutput)
            {
                return false;
            }
            ThrowIfWriteBroken();
            _connection.Send(default, buffer, out _, out written);
            return true;
        }
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
            while (true)
            {
                OssuaryStatus status = ReceiveBuffered(destination.Span, out int written, out bool owesOutput);
                if (owesOutput)
                {
                    await SendPendingFromReaderAsync<TAdapter>(mustSend: status == OssuaryStatus.OutputPending, cancellationToken).ConfigureAwait(false);
                }
                if (written > 0)
                {
                    return written;
                }
                if (status == OssuaryStatus.Closed)
                {
                    return 0;
                }
                if (status == OssuaryStatus.NeedMoreInput)
                {
                    if (!await ReceiveMoreAsync<TAdapter>(cancellationToken).ConfigureAwait(false))
                    {
                        CompleteInput(); // a clean end only after the peer's close; otherwise Truncated
                        return 0;
                    }
                }
            }
        }
        catch (Exception e) when (IdleAware(e))
        {
            throw IdleTimeoutError(e);
        }
        finally
        {
            lock (_sync)
            {
                if (_readStart == _readEnd || _disposed != 0)
                {
                    ReleaseReadBuffer();
                }
            }
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
                CompleteInput();
            }
            return false;
        }
        lock (_sync)
        {
            _readEnd += read;
        }
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
            await TAdapter.WaitAsync(_writeGate, cancellationToken).ConfigureAwait(false);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(WriteBufferSize(source.Length));
            try
            {
                while (!source.IsEmpty)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Seal(source.Span, buffer, out int consumed, out int written);
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
            await SendPendingIfIdleAsync<TAdapter>().ConfigureAwait(false);
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
        CloseWriting();
        await SendPendingAsync<TAdapter>(cancellationToken).ConfigureAwait(false);
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
    /// The reader queued control frames (pongs). If a writer is active it drains them with its next records; the reader
    /// sends them itself when the gate is free, and waits for the gate only when the connection refuses more input.
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
        while (HasPendingOutput() && _writeGate.Wait(0))
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

    private bool HasPendingOutput()
    {
        lock (_sync)
        {
            return _connection is { HasPendingOutput: true } && _disposed == 0;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DrainPendingAsync<TAdapter>(CancellationToken cancellationToken)
        where TAdapter : IStreamAdapter
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (true)
            {
                if (!TakePendingOutput(buffer, out int written))
                {
                    return;
                }
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
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or OssuaryException or NotSupportedException)
        {
            // Best effort: the peer may already be gone, and the local error is what matters.
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
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "An earlier write was interrupted in the middle of a record, so nothing more can be written to this stream.");
        }
    }
}
