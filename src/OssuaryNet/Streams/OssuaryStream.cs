using OssuaryNet.Identity;
using OssuaryNet.Streams;

namespace OssuaryNet;

/// <summary>
/// A <see cref="Stream"/> that secures any inner stream (a <see cref="System.Net.Sockets.NetworkStream"/>, a pipe, a
/// serial port) in the manner of <see cref="System.Net.Security.SslStream"/>, with Noise handshakes and static keys
/// instead of certificates. It drives one <see cref="OssuaryConnection"/>.
/// </summary>
/// <remarks>
/// <para>Authenticate first (<see cref="AuthenticateAsClientAsync"/> or <see cref="AuthenticateAsServerAsync"/>), then
/// read and write. One read and one write may run at the same time (a reader thread and a writer thread); a second
/// concurrent read, or write, throws <see cref="NotSupportedException"/>.</para>
/// <para>Reads return as soon as some plaintext is available. A read returns 0 only after the peer's authenticated
/// close (<see cref="ShutdownAsync"/> on its side); an inner end of stream without it throws an
/// <see cref="OssuaryException"/> with <see cref="OssuaryErrorCode.Truncated"/>. <see cref="Dispose(bool)"/> does not
/// send a close: a peer must be able to tell a finished conversation from an interrupted one.</para>
/// <para>Cancellation: a read may be cancelled at any time and the stream stays usable. A write is cancelled between
/// records; if it is cancelled while a record is being written to the inner stream, part of that record may have
/// been sent, so the write side is closed for good (later writes throw) and the peer will see an authentication or
/// truncation error, never corrupted data.</para>
/// </remarks>
public sealed partial class OssuaryStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveInnerStreamOpen;
    private OssuaryConnection? _connection;
    private int _disposed;
    private TimeProvider _timeProvider = TimeProvider.System;
    private long _clockOrigin = TimeProvider.System.GetTimestamp();

    /// <summary>Wraps <paramref name="innerStream"/>, which must be readable and writable.</summary>
    /// <param name="innerStream">The transport.</param>
    /// <param name="leaveInnerStreamOpen">Whether disposing this stream leaves <paramref name="innerStream"/> open.</param>
    public OssuaryStream(Stream innerStream, bool leaveInnerStreamOpen = false)
    {
        ArgumentNullException.ThrowIfNull(innerStream);
        if (!innerStream.CanRead || !innerStream.CanWrite)
        {
            throw new ArgumentException("The inner stream must be readable and writable.", nameof(innerStream));
        }
        _inner = innerStream;
        _leaveInnerStreamOpen = leaveInnerStreamOpen;
        // Only sockets are known to wait on a zero-byte read; other streams may return 0 at once, which reads as the end.
        _zeroByteReads = innerStream is System.Net.Sockets.NetworkStream;
    }

    /// <summary>
    /// Overrides the options' <see cref="OssuaryOptions.HandshakeTimeout"/> for this stream (null, the default, keeps
    /// it): how long the handshake may take, verification included, before it fails with
    /// <see cref="OssuaryErrorCode.HandshakeTimeout"/>. <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    public TimeSpan? HandshakeTimeout { get; set; }

    /// <summary>The clock for timeouts (tests use a fake one). Set it before authenticating.</summary>
    public TimeProvider TimeProvider
    {
        get => _timeProvider;
        set
        {
            _timeProvider = value ?? throw new ArgumentNullException(nameof(value));
            _clockOrigin = value.GetTimestamp();
        }
    }

    /// <summary>The wrapped stream.</summary>
    public Stream InnerStream => _inner;

    /// <summary>True once the handshake has completed.</summary>
    public bool IsAuthenticated => _authenticated;

    /// <summary>The peer's verified static key, after authentication.</summary>
    public OssuaryPublicKey? RemotePublicKey => _connection?.RemotePublicKey;

    /// <summary>This side's static key, after authentication has started.</summary>
    public OssuaryPublicKey? LocalPublicKey => _connection?.LocalPublicKey;

    /// <summary>The handshake hash (for channel binding), after authentication; a copy. Empty once disposed.</summary>
    public byte[] HandshakeHash
    {
        get
        {
            if (_connection is null || _disposed != 0)
            {
                return [];
            }
            // Counted as a user, so the connection (whose key block goes back to a pool) is not released mid-copy.
            try
            {
                Enter();
            }
            catch (ObjectDisposedException)
            {
                return [];
            }
            try
            {
                return _connection.HandshakeHash.ToArray();
            }
            finally
            {
                Exit();
            }
        }
    }

    /// <summary>The Noise protocol in use, e.g. "Noise_IK_25519_ChaChaPoly_BLAKE2b".</summary>
    public string? NoiseProtocolName => _connection?.NoiseProtocolName;

    /// <summary>The negotiated handshake pattern.</summary>
    public OssuaryHandshakePattern? Pattern => _connection?.Pattern;

    /// <summary>The negotiated cipher suite.</summary>
    public OssuarySuite? Suite => _connection?.Suite;

    /// <summary>The negotiated application protocol, or null.</summary>
    public string? ApplicationProtocol => _connection?.ApplicationProtocol;

    /// <summary>Early data the client sent in an IK handshake (server side; replayable), or empty.</summary>
    public ReadOnlyMemory<byte> EarlyData => _connection?.EarlyData ?? default;

    /// <summary>The underlying sans-I/O connection, for statistics (key updates, pongs). Do not drive it directly.</summary>
    public OssuaryConnection? Connection => _connection;

    /// <inheritdoc/>
    public override bool CanRead => _disposed == 0 && IsAuthenticated;

    /// <inheritdoc/>
    public override bool CanWrite => _disposed == 0 && IsAuthenticated && !_writeBroken;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanTimeout => _inner.CanTimeout;

    /// <inheritdoc/>
    public override int ReadTimeout { get => _inner.ReadTimeout; set => _inner.ReadTimeout = value; }

    /// <inheritdoc/>
    public override int WriteTimeout { get => _inner.WriteTimeout; set => _inner.WriteTimeout = value; }

    /// <summary>Not supported.</summary>
    public override long Length => throw new NotSupportedException("An OssuaryStream has no length.");

    /// <summary>Not supported.</summary>
    public override long Position { get => throw new NotSupportedException("An OssuaryStream cannot seek."); set => throw new NotSupportedException("An OssuaryStream cannot seek."); }

    /// <summary>Not supported.</summary>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("An OssuaryStream cannot seek.");

    /// <summary>Not supported.</summary>
    public override void SetLength(long value) => throw new NotSupportedException("An OssuaryStream cannot seek.");

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadCoreAsync<SyncStreamAdapter>(buffer.AsMemory(offset, count), default).GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return ReadCoreAsync<SyncStreamAdapter>(Memory<byte>.Empty, default).GetAwaiter().GetResult();
        }
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int read = ReadCoreAsync<SyncStreamAdapter>(rented.AsMemory(0, buffer.Length), default).GetAwaiter().GetResult();
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            rented.AsSpan(0, buffer.Length).Clear();
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadCoreAsync<AsyncStreamAdapter>(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync<AsyncStreamAdapter>(buffer, cancellationToken);

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        WriteCoreAsync<SyncStreamAdapter>(buffer.AsMemory(offset, count), default).GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(rented);
            WriteCoreAsync<SyncStreamAdapter>(rented.AsMemory(0, buffer.Length), default).GetAwaiter().GetResult();
        }
        finally
        {
            rented.AsSpan(0, buffer.Length).Clear();
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteCoreAsync<AsyncStreamAdapter>(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        WriteCoreAsync<AsyncStreamAdapter>(buffer, cancellationToken);

    /// <summary>Flushes the inner stream (records are written to it as soon as they are sealed).</summary>
    public override void Flush()
    {
        ThrowIfDisposed();
        _inner.Flush();
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _inner.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Sends the authenticated close of this side's writing direction (a half-close): the peer's reads then return 0.
    /// This side can keep reading until the peer closes too. Idempotent.
    /// </summary>
    public Task ShutdownAsync(CancellationToken cancellationToken = default) => ShutdownCoreAsync<AsyncStreamAdapter>(cancellationToken).AsTask();

    /// <summary>Synchronous <see cref="ShutdownAsync"/>.</summary>
    public void Shutdown() => ShutdownCoreAsync<SyncStreamAdapter>(default).GetAwaiter().GetResult();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            CloseInnerAndRelease();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2215:Dispose methods should call base class dispose",
        Justification = "Stream.DisposeAsync would only call Dispose(), whose work this method does, asynchronously for the inner stream.")]
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (!_leaveInnerStreamOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
            CloseInnerAndRelease();
        }
        GC.SuppressFinalize(this);
    }

    private void CloseInnerAndRelease()
    {
        _livenessTimer?.Dispose();
        if (!_leaveInnerStreamOpen)
        {
            _inner.Dispose(); // ends pending reads and writes, which then leave the connection
        }
        if (Volatile.Read(ref _users) == 0)
        {
            ReleaseConnection();
        }
        Disposed?.Invoke(); // once: both callers hold the first exchange of _disposed
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed != 0, this);
}
