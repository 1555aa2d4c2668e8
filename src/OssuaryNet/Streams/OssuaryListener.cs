using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace OssuaryNet;

/// <summary>
/// Accepts TCP connections and yields them once authenticated. Handshakes run in the background, at most
/// <see cref="MaxPendingHandshakes"/> at a time and each for at most <see cref="HandshakeTimeout"/>, so slow or silent
/// clients (slowloris) cannot hold more than that; while the cap is reached, no new connection is accepted and the
/// kernel's backlog holds them.
/// </summary>
public sealed class OssuaryListener : IAsyncDisposable, IDisposable
{
    private readonly OssuaryServerOptions _options;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private SemaphoreSlim? _handshakeSlots;
    private Channel<OssuaryStream>? _accepted;
    private Task? _acceptLoop;
    private long _failedHandshakes;

    /// <summary>Creates a listener on <paramref name="localEndpoint"/> (port 0 picks a free port); call <see cref="Start"/>.</summary>
    public OssuaryListener(IPEndPoint localEndpoint, OssuaryServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(localEndpoint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _socket = new Socket(localEndpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(localEndpoint);
    }

    /// <summary>How many handshakes may be in progress at once. Default 64.</summary>
    public int MaxPendingHandshakes { get; init; } = 64;

    /// <summary>How long one handshake may take. Default 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Called (on a pool thread) for every handshake that fails, with the error and the client's address.</summary>
    public Action<Exception, EndPoint?>? HandshakeFailed { get; init; }

    /// <summary>The bound address (with the actual port when 0 was requested).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Handshakes that failed or timed out so far.</summary>
    public long FailedHandshakes => Interlocked.Read(ref _failedHandshakes);

    /// <summary>Starts listening and handshaking in the background.</summary>
    public void Start(int backlog = 512)
    {
        if (_acceptLoop is not null)
        {
            throw new InvalidOperationException("The listener is already started.");
        }
        _handshakeSlots = new SemaphoreSlim(MaxPendingHandshakes, MaxPendingHandshakes);
        _accepted = Channel.CreateBounded<OssuaryStream>(new BoundedChannelOptions(MaxPendingHandshakes) { SingleWriter = false });
        _socket.Listen(backlog);
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Waits for the next authenticated connection.</summary>
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
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await _handshakeSlots!.WaitAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                _handshakeSlots.Release();
                if (_stopping.IsCancellationRequested)
                {
                    break;
                }
                continue;
            }
            client.NoDelay = true;
            _ = HandshakeAsync(client);
        }
    }

    private async Task HandshakeAsync(Socket client)
    {
        EndPoint? remote = client.RemoteEndPoint;
        var stream = new OssuaryStream(new NetworkStream(client, ownsSocket: true)) { HandshakeTimeout = HandshakeTimeout };
        try
        {
            await stream.AuthenticateAsServerAsync(_options, remote?.ToString(), _stopping.Token).ConfigureAwait(false);
            // Holding the handshake slot until the application accepts keeps authenticated-but-unaccepted connections bounded too.
            await _accepted!.Writer.WriteAsync(stream, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            if (!_stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failedHandshakes);
                HandshakeFailed?.Invoke(e, remote);
            }
        }
        finally
        {
            try
            {
                _handshakeSlots!.Release();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Stops listening; handshakes in progress are abandoned and connections not yet accepted are closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        _stopping.Cancel();
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
