using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using OssuaryNet.Interop;
using OssuaryNet.Streams;

namespace OssuaryNet;

/// <summary>
/// Accepts TCP connections and yields them once authenticated, built to stay up under floods and slow clients.
/// </summary>
/// <remarks>
/// <para>Handshakes in progress are bounded (<see cref="MaxPendingHandshakes"/>). A pending handshake that has not
/// delivered its whole first frame 100 ms after it was accepted is <em>stalled</em>; when the bound is reached, the
/// listener makes room by dropping a stalled handshake (the oldest, from the address with the most pending) rather
/// than refusing the newcomer, and while none is stalled it waits, so that a burst of real clients is served in turn
/// and never evicts itself. While full, an address that holds <see cref="MaxPendingHandshakesPerSource"/> pending
/// handshakes can only displace its own stalled ones.
/// A client must deliver its whole first frame within <see cref="FirstFrameTimeout"/> and finish within
/// <see cref="HandshakeTimeout"/>.</para>
/// <para>Connections (from the moment the socket is accepted until the application disposes the stream, handshakes
/// included) are capped by <see cref="MaxConnections"/>, by default derived from the process's descriptor limit; at
/// the cap the listener stops accepting and the kernel's backlog holds newcomers. Accept errors back off exponentially
/// from 5 ms to 1 s instead of spinning; running out of descriptors (a cap set above what the process may open) also
/// drops up to 16 handshakes still waiting for their first frame and lowers the cap to 16 below that point for 30 s,
/// since the runtime itself needs free descriptors to start threads. For the same reason a connection whose descriptor
/// leaves fewer than 32 free below the process's limit is closed at once and handled the same way. Each connection gets
/// <see cref="IdleTimeout"/> and <see cref="KeepAliveInterval"/>.</para>
/// </remarks>
public sealed class OssuaryListener : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(1);

    // How long a pending handshake may go without its whole first frame before it counts as stalled and may be
    // dropped for a newcomer (see PendingHandshakes): far above the milliseconds a real client needs.
    private static readonly TimeSpan StallGrace = TimeSpan.FromMilliseconds(100);


    private readonly OssuaryServerOptions _options;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private PendingHandshakes? _pending;
    private Channel<OssuaryStream>? _accepted;
    private ITimer? _sweeper;
    private Task? _acceptLoop;
    private long _failedHandshakes, _acceptErrors;
    private int _activeConnections;
    private DescriptorBudget? _descriptors;

    /// <summary>Creates a listener on <paramref name="localEndpoint"/> (port 0 picks a free port); call <see cref="Start"/>.</summary>
    public OssuaryListener(IPEndPoint localEndpoint, OssuaryServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(localEndpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _socket = new Socket(localEndpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        ListeningSocket.Bind(_socket, localEndpoint); // a port in use is refused (SocketError.AddressAlreadyInUse), never shared
    }

    /// <summary>
    /// Creates a listener over a stream socket the caller has bound (or already put in the listening state): a Unix
    /// domain socket, a socket handed over by a service manager, or one bound with options of the caller's choosing.
    /// The listener owns the socket and disposes it. Clients that are not on IP networks share one per-source limit.
    /// </summary>
    /// <exception cref="ArgumentException">The socket is not a bound stream socket.</exception>
    public OssuaryListener(Socket boundSocket, OssuaryServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(boundSocket);
        ArgumentNullException.ThrowIfNull(options);
        if (boundSocket.SocketType != SocketType.Stream || !boundSocket.IsBound)
        {
            throw new ArgumentException("The socket must be a bound stream socket.", nameof(boundSocket));
        }
        options.Validate();
        _options = options;
        _socket = boundSocket;
    }

    /// <summary>The default of <see cref="MaxPendingHandshakes"/>.</summary>
    internal const int DefaultMaxPendingHandshakes = 256;

    /// <summary>How many handshakes may be in progress at once. Default 256.</summary>
    public int MaxPendingHandshakes { get; init; } = DefaultMaxPendingHandshakes;

    /// <summary>How many handshakes one client address may have in progress at once. Default 8.</summary>
    public int MaxPendingHandshakesPerSource { get; init; } = 8;

    /// <summary>How long a client has to deliver its whole first handshake frame, whatever the load. Default 3 seconds.</summary>
    public TimeSpan FirstFrameTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long one handshake may take. Default 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many connections may exist at once: handshaking, authenticated and waiting for <see cref="AcceptAsync"/>,
    /// or handed out and not yet disposed. Default: <see cref="DefaultMaxConnections"/>.
    /// </summary>
    public int MaxConnections { get; init; } = DefaultMaxConnections(DefaultMaxPendingHandshakes);

    /// <summary>Given to each connection: see <see cref="OssuaryStream.IdleTimeout"/>. Default none.</summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Given to each connection: see <see cref="OssuaryStream.KeepAliveInterval"/>. Default none.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The clock for the listener's deadlines (tests may use a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Called (on a pool thread) for every handshake that fails, with the error and the client's address.</summary>
    public Action<Exception, EndPoint?>? HandshakeFailed { get; init; }

    /// <summary>The bound address (with the actual port when 0 was requested).</summary>
    /// <exception cref="InvalidOperationException">The listener runs over a socket that is not an IP socket.</exception>
    public IPEndPoint LocalEndpoint => _socket.LocalEndPoint as IPEndPoint
        ?? throw new InvalidOperationException($"The listener's socket is bound to {_socket.LocalEndPoint}, not an IP address.");

    /// <summary>Handshakes that failed or timed out so far (dropped ones are counted in <see cref="DroppedHandshakes"/>).</summary>
    public long FailedHandshakes => Interlocked.Read(ref _failedHandshakes);

    /// <summary>
    /// Pending handshakes dropped to make room for newcomers or for missing their first-frame deadline, and newcomers
    /// refused because their address was over <see cref="MaxPendingHandshakesPerSource"/> while the listener was full.
    /// </summary>
    public long DroppedHandshakes => (_pending?.Evicted ?? 0) + (_pending?.Refused ?? 0);

    /// <summary>Errors from accepting sockets (each followed by a back-off).</summary>
    public long AcceptErrors => Interlocked.Read(ref _acceptErrors);

    /// <summary>Handshakes in progress now.</summary>
    public int PendingHandshakes => _pending?.Count ?? 0;

    /// <summary>Connections accepted and not yet disposed (handshakes in progress included), the quantity <see cref="MaxConnections"/> caps.</summary>
    public int ActiveConnections => Volatile.Read(ref _activeConnections);

    /// <summary>
    /// The default <see cref="MaxConnections"/>: half of what the descriptor limit leaves after 64 descriptors for the
    /// rest of the process and <paramref name="maxPendingHandshakes"/> for handshakes, since an application that
    /// forwards each connection (a tunnel) holds two descriptors per connection; at least 16, and 10,000 where the
    /// limit cannot be read.
    /// </summary>
    public static int DefaultMaxConnections(int maxPendingHandshakes)
    {
        long? limit = DescriptorLimit.Current();
        return limit is long l ? (int)Math.Clamp((l - 64 - maxPendingHandshakes) / 2, 16, int.MaxValue) : 10_000;
    }

    /// <summary>Starts listening and handshaking in the background.</summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive.</exception>
    public void Start(int backlog = 512)
    {
        if (_acceptLoop is not null)
        {
            throw new InvalidOperationException("The listener is already started.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        _pending = new PendingHandshakes(MaxPendingHandshakes, MaxPendingHandshakesPerSource, FirstFrameTimeout, StallGrace);
        _descriptors = new DescriptorBudget(TimeProvider);
        _accepted = Channel.CreateUnbounded<OssuaryStream>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        TimeSpan sweep = TimeSpan.FromTicks(Math.Clamp(FirstFrameTimeout.Ticks / 5, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _sweeper = TimeProvider.CreateTimer(static state => ((OssuaryListener)state!).Sweep(), this, sweep, sweep);
        _socket.Listen(backlog);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Waits for the next authenticated connection; dispose it when done, which frees its place under <see cref="MaxConnections"/>.</summary>
    /// <exception cref="ObjectDisposedException">The listener was stopped.</exception>
    public async ValueTask<OssuaryStream> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Channel<OssuaryStream> accepted = _accepted ?? throw new InvalidOperationException("Call Start first.");
        try
        {
            return await accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(OssuaryListener));
        }
    }

    private async Task AcceptLoopAsync()
    {
        TimeSpan backoff = FirstBackoff;
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                // Accept nothing while every pending handshake is young or progressing and either the handshake table
                // or the connection cap is full: the kernel's backlog holds newcomers until a connection is disposed or
                // a pending handshake stalls. At the cap, a newcomer is taken only in exchange for a stalled handshake,
                // whose socket is closed before the newcomer's handshake starts, so descriptors stay within the cap.
                bool atCap;
                while ((atCap = ActiveConnections >= ConnectionLimit) ? !_pending!.HasStalled(Now) : !_pending!.HasRoom(Now))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider, _stopping.Token).ConfigureAwait(false);
                }
                Socket client = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                // Only this loop adds, after checking the cap above, and others only remove.
                Interlocked.Increment(ref _activeConnections);
                if (DescriptorBudget.LeavesTooFew(client.SafeHandle))
                {
                    client.Dispose();
                    ReleaseConnection();
                    // Handled as accepting out of descriptors, before the process really is.
                    throw new SocketException((int)SocketError.TooManyOpenSockets);
                }
                backoff = FirstBackoff;
                Admit(client, makeRoom: atCap);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException e)
            {
                // Typically EMFILE/ENFILE (out of descriptors) or a connection reset before it was accepted. Retrying at
                // once would spin; waiting lets connections end and descriptors come back.
                Interlocked.Increment(ref _acceptErrors);
                if (e.SocketErrorCode == SocketError.TooManyOpenSockets)
                {
                    OutOfDescriptors();
                }
                try
                {
                    await Task.Delay(backoff, TimeProvider, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
            }
        }
    }

    private TimeSpan Now => TimeProvider.GetElapsedTime(0);

    /// <summary><see cref="MaxConnections"/>, or lower for a while after accepting ran out of descriptors.</summary>
    private int ConnectionLimit => _descriptors!.Limit(MaxConnections);

    /// <summary>Learns a ceiling below the failure point and frees descriptors at once by dropping handshakes still waiting for their first frame.</summary>
    private void OutOfDescriptors()
    {
        _descriptors!.RanOut(ActiveConnections);
        var dropped = new List<PendingHandshakes.Entry>();
        _pending!.DropWaiting(DescriptorBudget.Headroom, dropped);
        AbortAll(dropped);
    }

    private void Admit(Socket client, bool makeRoom)
    {
        EndPoint? remote;
        try
        {
            if (client.ProtocolType == ProtocolType.Tcp)
            {
                client.NoDelay = true;
            }
            remote = client.RemoteEndPoint;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset between the accept and here: nothing to serve, and its place is free again.
            client.Dispose();
            ReleaseConnection();
            return;
        }
        IPAddress source = remote is IPEndPoint ip ? (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address) : IPAddress.None;
        var abort = new CancellationTokenSource();
        var dropped = new List<PendingHandshakes.Entry>();
        PendingHandshakes.Entry? entry = _pending!.Admit(source, Now, () => Abort(abort, client), dropped, makeRoom);
        AbortAll(dropped);
        if (entry is null)
        {
            abort.Dispose();
            client.Dispose();
            ReleaseConnection();
            return;
        }
        _ = HandshakeAsync(client, remote, entry, abort);
    }

    private static void Abort(CancellationTokenSource abort, Socket client)
    {
        try
        {
            abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        client.Dispose();
    }

    private static void AbortAll(List<PendingHandshakes.Entry> dropped)
    {
        foreach (PendingHandshakes.Entry entry in dropped)
        {
            entry.Abort();
        }
    }

    private void Sweep()
    {
        if (_pending is null || _stopping.IsCancellationRequested)
        {
            return;
        }
        var dropped = new List<PendingHandshakes.Entry>();
        _pending.Sweep(Now, dropped);
        AbortAll(dropped);
    }

    private async Task HandshakeAsync(Socket client, EndPoint? remote, PendingHandshakes.Entry entry, CancellationTokenSource abort)
    {
        OssuaryStream stream;
        try
        {
            stream = new OssuaryStream(new NetworkStream(client, ownsSocket: true))
            {
                HandshakeTimeout = HandshakeTimeout,
                TimeProvider = TimeProvider,
                IdleTimeout = IdleTimeout,
                KeepAliveInterval = KeepAliveInterval,
                FirstHandshakeFrameReceived = () => entry.FirstFrameReceived = true,
            };
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The socket was reset (or dropped) before its stream existed.
            _pending!.Remove(entry);
            client.Dispose();
            abort.Dispose();
            ReleaseConnection();
            return;
        }
        bool established = false;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, abort.Token);
            await stream.AuthenticateAsServerAsync(_options, remote?.ToString(), linked.Token).ConfigureAwait(false);
            if (!_pending!.Remove(entry))
            {
                await stream.DisposeAsync().ConfigureAwait(false); // dropped just as it finished
                ReleaseConnection();
                return;
            }
            // From here the connection's place is released when the application disposes the stream.
            established = true;
            stream.Disposed = ReleaseConnection;
            if (!_accepted!.Writer.TryWrite(stream))
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            _pending!.Remove(entry);
            await stream.DisposeAsync().ConfigureAwait(false);
            if (!established)
            {
                ReleaseConnection();
                if (!_stopping.IsCancellationRequested && !abort.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _failedHandshakes);
                    HandshakeFailed?.Invoke(e, remote);
                }
            }
        }
        finally
        {
            abort.Dispose();
        }
    }

    private void ReleaseConnection() => Interlocked.Decrement(ref _activeConnections);

    /// <summary>Stops listening; handshakes in progress are abandoned and connections not yet accepted are closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        _stopping.Cancel();
        _sweeper?.Dispose();
        _socket.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        if (_accepted is not null)
        {
            _accepted.Writer.TryComplete();
            while (_accepted.Reader.TryRead(out OssuaryStream? stream))
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
