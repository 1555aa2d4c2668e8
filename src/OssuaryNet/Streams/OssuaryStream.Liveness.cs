using OssuaryNet.Streams;

namespace OssuaryNet;

// Liveness of an established OssuaryStream: an idle timeout on what is received, and keep-alive pings that make a
// live but quiet peer answer (its pong is received traffic). One timer per stream, created only when either is set;
// it sends its ping only when it can take the write gate at once, so it never waits behind a writer.
public sealed partial class OssuaryStream
{
    private ITimer? _livenessTimer;
    private long _lastReceivedTimestamp;
    private long _lastPingTimestamp;
    private volatile bool _idleExpired;

    /// <summary>
    /// How long the stream may receive nothing once authenticated before it is ended: pending and later reads and
    /// writes then fail with <see cref="OssuaryErrorCode.IdleTimeout"/> and the inner stream is closed. Default
    /// <see cref="Timeout.InfiniteTimeSpan"/> (none). Set before authenticating. Pair it with
    /// <see cref="KeepAliveInterval"/> so that a live peer that has nothing to say is not taken for a dead one.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// After this long without receiving anything, the stream sends a ping (at most one per interval); the peer's
    /// pong counts as received traffic. Default <see cref="Timeout.InfiniteTimeSpan"/> (none). Set before authenticating.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Called once, when the client's first handshake frame has been processed (the listener's admission policy).</summary>
    internal Action? FirstHandshakeFrameReceived { get; set; }

    /// <summary>Called once, when the stream is disposed (the listener's connection count).</summary>
    internal Action? Disposed { get; set; }

    private void StartLivenessTimer()
    {
        TimeSpan shortest = Shortest(IdleTimeout, KeepAliveInterval);
        if (shortest == Timeout.InfiniteTimeSpan)
        {
            return;
        }
        long now = TimeProvider.GetTimestamp();
        Volatile.Write(ref _lastReceivedTimestamp, now);
        _lastPingTimestamp = now;
        TimeSpan period = TimeSpan.FromTicks(Math.Max(shortest.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks));
        _livenessTimer = TimeProvider.CreateTimer(static state => ((OssuaryStream)state!).CheckLiveness(), this, period, period);
    }

    private void NoteReceived()
    {
        if (_livenessTimer is not null)
        {
            Volatile.Write(ref _lastReceivedTimestamp, TimeProvider.GetTimestamp());
        }
    }

    private void CheckLiveness()
    {
        if (_disposed != 0 || _idleExpired)
        {
            return;
        }
        long now = TimeProvider.GetTimestamp();
        TimeSpan quiet = TimeProvider.GetElapsedTime(Volatile.Read(ref _lastReceivedTimestamp), now);
        if (IdleTimeout != Timeout.InfiniteTimeSpan && quiet >= IdleTimeout)
        {
            _idleExpired = true;
            _livenessTimer?.Dispose();
            // Ends pending reads and writes on the inner stream; they surface as IdleTimeout (IdleAware).
            _inner.Dispose();
            return;
        }
        if (KeepAliveInterval != Timeout.InfiniteTimeSpan && quiet >= KeepAliveInterval
            && TimeProvider.GetElapsedTime(_lastPingTimestamp, now) >= KeepAliveInterval)
        {
            _lastPingTimestamp = now;
            _ = SendKeepAliveAsync();
        }
    }

    /// <summary>
    /// Sends a ping if no write holds the gate (a write in progress is traffic the peer's idle timer sees anyway, and a
    /// blocked one is not helped by another frame behind it).
    /// </summary>
    private async Task SendKeepAliveAsync()
    {
        if (!_writeGate.Wait(0))
        {
            return;
        }
        try
        {
            Enter();
            try
            {
                if (_connection is { State: OssuaryConnectionState.Established, IsLocalClosed: false } connection && !_writeBroken)
                {
                    connection.Ping(default);
                    await DrainPendingAsync<AsyncStreamAdapter>(CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                Exit();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OssuaryException or OperationCanceledException or InvalidOperationException)
        {
            // The next read or write reports the broken connection; a ping has no caller to tell.
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>After the idle timeout ended the inner stream, what a read or write sees is reported as that timeout.</summary>
    private bool IdleAware(Exception e) =>
        _idleExpired && e is IOException and not OssuaryException or ObjectDisposedException or OperationCanceledException or OssuaryException { ErrorCode: OssuaryErrorCode.Truncated };

    private OssuaryException IdleTimeoutError(Exception inner) =>
        new(OssuaryErrorCode.IdleTimeout, $"Nothing was received from the peer for {IdleTimeout.TotalSeconds:0.###} s; the connection was closed.", inner);

    private static TimeSpan Shortest(TimeSpan a, TimeSpan b) =>
        a == Timeout.InfiniteTimeSpan ? b : b == Timeout.InfiniteTimeSpan ? a : a < b ? a : b;
}
