using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Datagram;

/// <summary>
/// Datagram mode over one UDP socket: the thin loop around a <see cref="DatagramEndpoint"/> (receive → handle; drain
/// transmits → send; wait for the next timeout → handle it), with connections to open and accept, trust decided by a
/// <see cref="PeerVerifier"/> as in the stream mode, and statistics.
/// </summary>
/// <remarks>
/// One lock guards the sans-I/O endpoint; the socket is read by one loop and the timers run in another, which checks
/// them at each deadline and at least every 250 ms (so a timer fires at most that late). Packets are sent from
/// whichever thread produced them, inside the lock (a UDP send does not block). Verifiers run outside the lock.
/// Events of connections (<see cref="OssuaryUdpConnection.PeerMoved"/>, <see cref="OssuaryUdpConnection.Closed"/>) are
/// raised outside the lock too.
/// </remarks>
public sealed class OssuaryUdpEndpoint : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly DatagramEndpoint _core;
    private readonly PeerVerifier? _verifier;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Dictionary<long, OssuaryUdpConnection> _connections = new();
    private readonly Dictionary<long, TaskCompletionSource<OssuaryUdpConnection>> _connecting = new();
    private readonly Dictionary<long, PeerVerifier> _connectVerifiers = new();
    private readonly Dictionary<long, PeerVerdict> _rejections = new();
    private readonly Channel<OssuaryUdpConnection> _accepted = Channel.CreateUnbounded<OssuaryUdpConnection>();
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _sendBuffer, _sendAddress = new byte[DatagramAddress.MaxSize];
    private readonly List<Action> _afterLock = [];
    private readonly Task _receiveLoop, _timerLoop;
    private Socket _socket;
    private SocketAddress _sendTo;
    private bool _disposed;

    /// <summary>
    /// The longest the timer loop sleeps. It sleeps until the next deadline it knows, and at most this long, so a
    /// deadline created meanwhile by a packet (never less than 1 s ahead: retransmissions, keepalives, path challenges)
    /// fires at most this late, without a deadline scan over every connection after every packet.
    /// </summary>
    private static readonly TimeSpan TimerCheck = TimeSpan.FromMilliseconds(250);

    /// <summary>The most datagrams taken from the socket per wakeup of the receive loop.</summary>
    private const int ReceiveBatch = 64;

    private OssuaryUdpEndpoint(Socket socket, DatagramOptions options, PeerVerifier? verifier)
    {
        _socket = socket;
        _sendTo = new SocketAddress(socket.AddressFamily);
        _verifier = verifier;
        // The caller's options are left as they are: the wall clock and the address format are this wrapper's to set.
        DatagramOptions own = options.Copy();
        own.WallClockAtStart = DateTimeOffset.UtcNow;
        own.AddressFormat = DatagramAddressFormat.SocketAddress; // per-source limits count IP addresses, not IP:port
        _core = new DatagramEndpoint(own, Now);
        _sendBuffer = new byte[options.MaxDatagramSize];
        _receiveLoop = Task.Run(ReceiveLoopAsync);
        _timerLoop = Task.Run(TimerLoopAsync);
    }

    /// <summary>
    /// Binds a UDP socket to <paramref name="localEndPoint"/> (port 0: any free port; <see cref="IPAddress.IPv6Any"/>:
    /// dual-mode, IPv4 and IPv6) and starts its loop. <paramref name="verifier"/> judges peers whose key was not given:
    /// every initiator at a listener, and responders reached without a key.
    /// </summary>
    public static OssuaryUdpEndpoint Bind(IPEndPoint localEndPoint, DatagramOptions options, PeerVerifier? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        ArgumentNullException.ThrowIfNull(options);
        return new OssuaryUdpEndpoint(OpenSocket(localEndPoint), options, verifier);
    }

    /// <summary>Where the socket is bound.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>This node's static public key.</summary>
    public OssuaryPublicKey LocalKey => _core.LocalKey;

    /// <summary>The largest datagram a connection sends.</summary>
    public int MaxPayloadSize => _core.MaxPayloadSize;

    /// <summary>A copy of the endpoint's counters (drops by reason included).</summary>
    public DatagramStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return _core.Statistics;
            }
        }
    }

    private TimeSpan Now => Stopwatch.GetElapsedTime(_started);

    /// <summary>
    /// Opens a connection to <paramref name="remote"/> whose key is <paramref name="peerKey"/> (IK: one round trip, and
    /// <paramref name="earlyData"/> rides in the first packet). Without a key, the verifier's recorded key for the
    /// endpoint (known hosts) is used if it has one; otherwise the handshake is XX and the verifier judges the key.
    /// </summary>
    /// <exception cref="OssuaryException">The handshake timed out (<see cref="OssuaryErrorCode.HandshakeTimeout"/>) or the peer's key was refused.</exception>
    /// <remarks>
    /// A key recorded by the verifier (known hosts) is tried with IK first. A server that answers nothing for
    /// <see cref="RecordedKeyProbeDelay"/> is then also asked with XX, so that a server whose key changed is reported
    /// as such (the verifier's <see cref="OssuaryErrorCode.PeerKeyChanged"/>) instead of timing out after 90 s.
    /// </remarks>
    public Task<OssuaryUdpConnection> ConnectAsync(IPEndPoint remote, OssuaryPublicKey? peerKey = null, ReadOnlyMemory<byte> earlyData = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        if (peerKey is null && _verifier?.RecordedKeyFor(remote.ToString()) is { } recorded)
        {
            return ConnectToRecordedKeyAsync(remote, recorded, earlyData, cancellationToken);
        }
        return ConnectCoreAsync(remote, peerKey, null, earlyData, cancellationToken);
    }

    /// <summary>How long an IK handshake to a recorded key goes unanswered before an XX handshake checks whether the key changed.</summary>
    public static TimeSpan RecordedKeyProbeDelay { get; } = TimeSpan.FromSeconds(2);

    private async Task<OssuaryUdpConnection> ConnectToRecordedKeyAsync(IPEndPoint remote, OssuaryPublicKey recorded, ReadOnlyMemory<byte> earlyData, CancellationToken cancellationToken)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<OssuaryUdpConnection> ik = ConnectCoreAsync(remote, recorded, null, earlyData, both.Token);
        if (await Task.WhenAny(ik, Task.Delay(RecordedKeyProbeDelay, cancellationToken)).ConfigureAwait(false) == ik)
        {
            return await ik.ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        Task<OssuaryUdpConnection> xx = ConnectCoreAsync(remote, null, null, default, both.Token);
        Task<OssuaryUdpConnection> first = await Task.WhenAny(ik, xx).ConfigureAwait(false);
        if (first.IsCompletedSuccessfully)
        {
            both.Cancel(); // the other attempt, still running, is abandoned (and its connection closed)
            _ = (first == ik ? xx : ik).ContinueWith(static other =>
            {
                if (other.IsCompletedSuccessfully)
                {
                    other.Result.Close();
                }
                else
                {
                    _ = other.Exception; // observed: its failure no longer matters
                }
            }, TaskScheduler.Default);
            return first.Result;
        }
        if (first == xx && xx.Exception?.InnerException is OssuaryException { ErrorCode: OssuaryErrorCode.PeerKeyChanged or OssuaryErrorCode.PeerRejected })
        {
            both.Cancel();
            await xx.ConfigureAwait(false); // throws the verifier's verdict
        }
        return await (first == ik ? xx : ik).ConfigureAwait(false);
    }

    /// <summary>Opens a connection (XX) to a peer known by its key's <paramref name="fingerprint"/>; any other key is refused.</summary>
    public Task<OssuaryUdpConnection> ConnectAsync(IPEndPoint remote, string fingerprint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        PeerVerifier expect = PeerVerifier.FromCallback(peer => string.Equals(peer.PublicKey.Fingerprint, fingerprint, StringComparison.Ordinal)
            ? PeerVerdict.Accept()
            : PeerVerdict.Reject($"The peer's fingerprint is {peer.PublicKey.Fingerprint}, not the expected {fingerprint}."));
        return ConnectCoreAsync(remote, null, expect, default, cancellationToken);
    }

    private async Task<OssuaryUdpConnection> ConnectCoreAsync(IPEndPoint remote, OssuaryPublicKey? peerKey, PeerVerifier? verifier, ReadOnlyMemory<byte> earlyData, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<OssuaryUdpConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        OssuaryUdpConnection connection;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            IPEndPoint target = remote.AddressFamily == AddressFamily.InterNetwork && _socket.AddressFamily == AddressFamily.InterNetworkV6
                ? new IPEndPoint(remote.Address.MapToIPv6(), remote.Port)
                : remote;
            SocketAddress address = target.Serialize();
            DatagramHandle handle = _core.Connect(address.Buffer.Span[..address.Size], peerKey, Now, earlyData.Span);
            connection = new OssuaryUdpConnection(this, handle, target) { PeerKey = peerKey };
            _connections.Add(handle.Value, connection);
            _connecting.Add(handle.Value, completion);
            if (verifier is not null)
            {
                _connectVerifiers.Add(handle.Value, verifier);
            }
            PumpLocked();
        }
        RunAfterLock();
        using (cancellationToken.Register(() =>
        {
            completion.TrySetCanceled(cancellationToken); // before the close, whose Closed event would fail it otherwise
            connection.Close();
        }))
        {
            OssuaryUdpConnection connected = await completion.Task.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return connected;
        }
    }

    /// <summary>Waits for the next connection a peer opened here (the options must accept connections): its key is verified already, and a packet under its new keys has arrived.</summary>
    public ValueTask<OssuaryUdpConnection> AcceptAsync(CancellationToken cancellationToken = default) => _accepted.Reader.ReadAsync(cancellationToken);

    /// <summary>
    /// Moves this endpoint to a new socket (a new local port, as after a NAT rebinding or a network change), keeping
    /// every connection: peers follow the first authenticated packet from the new address.
    /// </summary>
    public void Rebind(IPEndPoint? localEndPoint = null)
    {
        Socket fresh = OpenSocket(localEndPoint ?? new IPEndPoint(LocalEndPoint.Address, 0));
        Socket old;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            old = _socket;
            _socket = fresh;
            _sendTo = new SocketAddress(fresh.AddressFamily);
        }
        old.Dispose(); // the receive loop moves to the new socket
    }

    internal DatagramConnectionInfo GetInfo(OssuaryUdpConnection connection)
    {
        lock (_gate)
        {
            if (connection.IsClosed)
            {
                throw new InvalidOperationException("The connection is closed.");
            }
            return _core.GetInfo(connection.Handle);
        }
    }

    internal void Send(OssuaryUdpConnection connection, ReadOnlySpan<byte> datagram)
    {
        DatagramSendResult result;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            result = connection.IsClosed ? DatagramSendResult.Closed : _core.Send(connection.Handle, datagram, Now);
            PumpLocked();
        }
        RunAfterLock();
        switch (result)
        {
            case DatagramSendResult.TooLarge:
                throw new ArgumentException($"A datagram is at most {MaxPayloadSize} bytes here, not {datagram.Length}.", nameof(datagram));
            case DatagramSendResult.Closed:
                throw new InvalidOperationException("The connection is closed.");
        }
    }

    internal bool TryReceive(OssuaryUdpConnection connection, Span<byte> buffer, out DatagramReceiveResult result)
    {
        lock (_gate)
        {
            if (!_disposed && _core.TryReceive(connection.Handle, buffer, out int length, out DatagramReceiveFlags flags))
            {
                result = new DatagramReceiveResult(length, flags);
                return true;
            }
        }
        result = default;
        return false;
    }

    internal void Close(OssuaryUdpConnection connection, ushort reason)
    {
        lock (_gate)
        {
            if (_disposed || connection.IsClosed)
            {
                return;
            }
            _core.Close(connection.Handle, reason, Now);
            PumpLocked();
        }
        RunAfterLock();
    }

    /// <summary>Stops the loops, closes the socket and wipes every key. Connections end without a close to their peers.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            await Task.WhenAll(_receiveLoop, _timerLoop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        lock (_gate)
        {
            _core.Dispose();
            foreach (TaskCompletionSource<OssuaryUdpConnection> pending in _connecting.Values)
            {
                pending.TrySetException(new ObjectDisposedException(nameof(OssuaryUdpEndpoint)));
            }
            foreach (OssuaryUdpConnection connection in _connections.Values)
            {
                connection.MarkClosed(new DatagramEvent(DatagramEventKind.Closed, connection.Handle) { CloseReason = DatagramCloseReason.Local });
            }
            _connecting.Clear();
            _connections.Clear();
        }
        _accepted.Writer.TryComplete();
        _stop.Dispose();
    }

    private static Socket OpenSocket(IPEndPoint localEndPoint)
    {
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(localEndPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = new byte[65536];
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            Socket socket = _socket;
            var from = new SocketAddress(socket.AddressFamily);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    int length = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from, stop).ConfigureAwait(false);
                    lock (_gate)
                    {
                        if (_disposed)
                        {
                            return;
                        }
                        _core.HandleDatagram(buffer.AsSpan(0, length), from.Buffer.Span[..from.Size], Now);
                        // What else is queued in the socket is taken at once, under the same lock and one pump: a
                        // batch costs one wakeup instead of one per datagram.
                        for (int batch = 1; batch < ReceiveBatch && socket.Available > 0; batch++)
                        {
                            length = socket.ReceiveFrom(buffer, SocketFlags.None, from);
                            _core.HandleDatagram(buffer.AsSpan(0, length), from.Buffer.Span[..from.Size], Now);
                        }
                        PumpLocked();
                    }
                    RunAfterLock();
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException) when (!ReferenceEquals(socket, _socket) || stop.IsCancellationRequested)
            {
                // Rebound, or stopping: go on with the current socket, or end.
            }
            catch (SocketException) when (!ReferenceEquals(socket, _socket) || stop.IsCancellationRequested)
            {
            }
            catch (SocketException)
            {
                // An ICMP error reported on a later receive (port unreachable) or an oversized datagram: nothing to do
                // with the packets still to come.
            }
        }
    }

    private async Task TimerLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            TimeSpan wait;
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                _core.HandleTimeout(Now);
                PumpLocked();
                TimeSpan? next = _core.NextTimeout();
                wait = next is { } at ? at - Now : TimerCheck;
                wait = wait < TimerCheck ? wait : TimerCheck;
            }
            RunAfterLock();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait + TimeSpan.FromMilliseconds(1), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Sends what the endpoint built and turns its events into the wrapper's; callbacks wait for <see cref="RunAfterLock"/>.</summary>
    private void PumpLocked()
    {
        while (_core.TryPollEvent(out DatagramEvent e))
        {
            Dispatch(e);
        }
        while (_core.TryPollTransmit(_sendBuffer, _sendAddress, out int length, out int addressLength))
        {
            _sendAddress.AsSpan(0, addressLength).CopyTo(_sendTo.Buffer.Span);
            _sendTo.Size = addressLength;
            try
            {
                _socket.SendTo(_sendBuffer.AsSpan(0, length), SocketFlags.None, _sendTo);
            }
            catch (SocketException)
            {
                // UDP: a send that fails is a packet lost; the protocol's timers recover.
            }
            catch (ObjectDisposedException)
            {
                // Rebinding or stopping.
            }
        }
    }

    private void Dispatch(DatagramEvent e)
    {
        long handle = e.Handle.Value;
        OssuaryUdpConnection? connection = _connections.GetValueOrDefault(handle);
        switch (e.Kind)
        {
            case DatagramEventKind.Connected when connection is not null && _connecting.Remove(handle, out TaskCompletionSource<OssuaryUdpConnection>? pending):
                DatagramConnectionInfo connected = _core.GetInfo(e.Handle);
                connection.PeerKey = connected.PeerKey;
                connection.Pattern = connected.Pattern;
                _connectVerifiers.Remove(handle);
                pending.TrySetResult(connection);
                break;
            case DatagramEventKind.Accepted:
                DatagramConnectionInfo info = _core.GetInfo(e.Handle);
                var accepted = new OssuaryUdpConnection(this, e.Handle, ToEndPoint(info.Address)) { PeerKey = info.PeerKey, Pattern = info.Pattern };
                _connections.Add(handle, accepted);
                _accepted.Writer.TryWrite(accepted);
                break;
            case DatagramEventKind.VerificationRequired:
                StartVerification(e.Handle);
                break;
            case DatagramEventKind.Readable:
                connection?.SignalReadable();
                break;
            case DatagramEventKind.PeerMoved when connection is not null:
                IPEndPoint to = ToEndPoint(_core.GetInfo(e.Handle).Address);
                connection.RemoteEndPoint = to;
                _afterLock.Add(connection.PeerMovedCallback(to));
                break;
            case DatagramEventKind.Closed:
                _connectVerifiers.Remove(handle);
                _rejections.Remove(handle, out PeerVerdict rejection);
                if (_connecting.Remove(handle, out TaskCompletionSource<OssuaryUdpConnection>? failed))
                {
                    failed.TrySetException(e.CloseReason == DatagramCloseReason.PeerRejected
                        ? new OssuaryException(rejection.ErrorCode == default ? OssuaryErrorCode.PeerRejected : rejection.ErrorCode, rejection.Reason ?? "The peer's key was rejected.")
                        : new OssuaryException(OssuaryErrorCode.HandshakeTimeout, $"The handshake with {connection?.RemoteEndPoint} got no answer ({e.CloseReason})."));
                }
                if (connection is not null && _connections.Remove(handle))
                {
                    connection.MarkClosed(e);
                    _afterLock.Add(connection.ClosedCallback(e.CloseReason));
                }
                break;
        }
    }

    /// <summary>Runs the verifier outside the lock, bounded by the half-open lifetime, then gives the verdict.</summary>
    private void StartVerification(DatagramHandle handle)
    {
        PeerIdentity asked = _core.PeerToVerify(handle);
        IPEndPoint where = _connections.TryGetValue(handle.Value, out OssuaryUdpConnection? own) ? own.RemoteEndPoint : ToEndPoint(Convert.FromHexString(asked.Endpoint!));
        PeerIdentity peer = asked with { Endpoint = where.ToString() };
        PeerVerifier? verifier = _connectVerifiers.GetValueOrDefault(handle.Value) ?? _verifier;
        _ = Task.Run(async () =>
        {
            PeerVerdict verdict;
            if (verifier is null)
            {
                verdict = PeerVerdict.Reject("No peer verifier is configured for keys not given in advance.");
            }
            else
            {
                try
                {
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    deadline.CancelAfter(DatagramTimers.HalfOpenLifetime);
                    verdict = await verifier.VerifyAsync(peer, deadline.Token).ConfigureAwait(false);
                }
                catch (Exception failure)
                {
                    verdict = PeerVerdict.VerifierFailed(failure);
                }
            }
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }
                if (!verdict.IsAccepted && _connecting.ContainsKey(handle.Value))
                {
                    _rejections[handle.Value] = verdict; // reported by ConnectAsync when the connection closes
                }
                try
                {
                    _core.CompletePeerVerification(handle, verdict, Now);
                }
                catch (InvalidOperationException)
                {
                    // The handshake expired while the verifier thought: its Closed event has said so.
                }
                PumpLocked();
            }
            RunAfterLock();
        });
    }

    private IPEndPoint ToEndPoint(ReadOnlySpan<byte> address)
    {
        var socketAddress = new SocketAddress(_socket.AddressFamily, address.Length);
        address.CopyTo(socketAddress.Buffer.Span);
        return (IPEndPoint)new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(socketAddress);
    }

    private void RunAfterLock()
    {
        Action[] callbacks;
        lock (_gate)
        {
            if (_afterLock.Count == 0)
            {
                return;
            }
            callbacks = [.. _afterLock];
            _afterLock.Clear();
        }
        foreach (Action callback in callbacks)
        {
            callback();
        }
    }
}
