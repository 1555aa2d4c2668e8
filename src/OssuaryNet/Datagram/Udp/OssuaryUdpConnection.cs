using System.Net;
using System.Runtime.CompilerServices;
using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>
/// One secure datagram connection of an <see cref="OssuaryUdpEndpoint"/>: send and receive datagrams (unreliable,
/// unordered, never duplicated, each at most <see cref="OssuaryUdpEndpoint.MaxPayloadSize"/> bytes), see who the
/// peer is and where, and close. Safe to use from several threads.
/// </summary>
public sealed class OssuaryUdpConnection : IAsyncDisposable
{
    private readonly OssuaryUdpEndpoint _owner;
    private readonly ReceiveSignal _readable = new();
    private DatagramEvent? _closed;

    internal OssuaryUdpConnection(OssuaryUdpEndpoint owner, DatagramHandle handle, IPEndPoint remote)
    {
        _owner = owner;
        Handle = handle;
        RemoteEndPoint = remote;
    }

    internal DatagramHandle Handle { get; }

    /// <summary>The peer's verified static key (null until the handshake authenticated it).</summary>
    public OssuaryPublicKey? PeerKey { get; internal set; }

    /// <summary>The handshake pattern that made the connection (XX, IK, XXhfs or IKhfs); it stays readable after a close.</summary>
    public OssuaryHandshakePattern Pattern { get; internal set; }

    /// <summary>The peer key's fingerprint.</summary>
    public string? PeerFingerprint => PeerKey?.Fingerprint;

    /// <summary>Where the peer is now (it may move: <see cref="PeerMoved"/>).</summary>
    public IPEndPoint RemoteEndPoint { get; internal set; }

    /// <summary>Whether the connection has closed (either side, or a timeout).</summary>
    public bool IsClosed => _closed is not null;

    /// <summary>Raised (on a thread of the endpoint's loop) when an authenticated packet moved the peer to another address.</summary>
    public event Action<OssuaryUdpConnection, IPEndPoint>? PeerMoved;

    /// <summary>Raised once (on a thread of the endpoint's loop) when the connection closes, with why.</summary>
    public event Action<OssuaryUdpConnection, DatagramCloseReason>? Closed;

    /// <summary>Statistics and state of this connection (RTT, loss, reorder depth, key age, address and whether it is validated).</summary>
    public DatagramConnectionInfo GetInfo() => _owner.GetInfo(this);

    /// <summary>
    /// Sends one datagram. It is sealed at once, or held while a handshake runs; a datagram lost by the network is not
    /// sent again.
    /// </summary>
    /// <exception cref="ArgumentException">Larger than <see cref="OssuaryUdpEndpoint.MaxPayloadSize"/>.</exception>
    /// <exception cref="InvalidOperationException">The connection is closed.</exception>
    public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _owner.Send(this, datagram.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Waits for the next datagram and copies it into <paramref name="buffer"/> (allow <see cref="OssuaryUdpEndpoint.MaxPayloadSize"/>),
    /// or reports the close once the datagrams received before it were all read.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is smaller than the datagram waiting (it stays queued).</exception>
    /// <remarks>Allocates nothing when a datagram is waiting, nor, in the steady state, when it has to wait for one.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<DatagramReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_owner.TryReceive(this, buffer.Span, out DatagramReceiveResult result))
            {
                return result;
            }
            if (_closed is { } closed)
            {
                return new DatagramReceiveResult(0, DatagramReceiveFlags.None) { IsClosed = true, CloseReason = closed.CloseReason, PeerCloseCode = closed.PeerCloseCode };
            }
            await _readable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the connection: an authenticated close with <paramref name="reason"/> goes to the peer. Idempotent.</summary>
    public void Close(ushort reason = 0) => _owner.Close(this, reason);

    /// <summary>Closes the connection with reason 0.</summary>
    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    /// <summary>Wakes a waiting receiver (a datagram arrived, or the connection closed); one wake is enough for any number of datagrams.</summary>
    internal void SignalReadable() => _readable.Signal();

    internal void MarkClosed(DatagramEvent closed)
    {
        _closed ??= closed;
        SignalReadable();
    }

    // The endpoint raises these after its lock. They are made here, not as lambdas in the endpoint's event dispatch:
    // a lambda there would capture that method's locals, and C# allocates the closure on every call of it, once per
    // datagram received, even when no event needs one.
    internal Action PeerMovedCallback(IPEndPoint to) => () => PeerMoved?.Invoke(this, to);

    internal Action ClosedCallback(DatagramCloseReason reason) => () => Closed?.Invoke(this, reason);
}
