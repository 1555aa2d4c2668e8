using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>
/// One connection of a <see cref="DatagramEndpoint"/>: its peer, its address and path validation, up to three key
/// pairs (previous, current, next), the handshake it is running as initiator, its queues and its timers. The endpoint
/// holds all the logic; this class keeps the state and its invariants.
/// </summary>
/// <remarks>
/// Invariants: <see cref="Current"/> is confirmed whenever it is set on the initiator; <see cref="Next"/> exists only on
/// a responder and is unconfirmed; only the initiator of the first handshake starts handshakes on this connection, so
/// roles never swap. Every queued buffer comes from the endpoint's pool and goes back to it, wiped, when it leaves a
/// queue.
/// </remarks>
internal sealed class DatagramConnection : IDisposable
{
    private readonly Queue<Pending> _sendQueue = new();
    private readonly Queue<Received> _receiveQueue = new();
    private readonly PacketBufferPool _pool;

    public DatagramConnection(DatagramHandle handle, bool isInitiator, OssuaryHandshakePattern pattern, in DatagramAddress address, TimeSpan now, PacketBufferPool pool)
    {
        _pool = pool;
        Handle = handle;
        IsInitiator = isInitiator;
        Pattern = pattern;
        Address = address;
        CreatedAt = now;
    }

    public DatagramHandle Handle { get; }

    public bool IsInitiator { get; }

    public OssuaryHandshakePattern Pattern { get; }

    public TimeSpan CreatedAt { get; }

    public DatagramConnectionStage Stage { get; set; } = DatagramConnectionStage.Connecting;

    /// <summary>The peer's static key: given or looked up (initiator IK), authenticated (XX), or verified (responder).</summary>
    public OssuaryPublicKey? PeerKey { get; set; }

    /// <summary>Initiator: the key the responder must have (from <see cref="DatagramEndpoint.Connect"/>), or null to ask the caller.</summary>
    public OssuaryPublicKey? ExpectedKey { get; set; }

    /// <summary>Responder: the source its first address belongs to, under which the per-source limit counts it.</summary>
    public DatagramAddress Source { get; init; }

    /// <summary>Responder: its place in the budget's list of connections whose peer has sent no datagram yet, or null once it has.</summary>
    public LinkedListNode<DatagramConnection>? UnusedNode { get; set; }

    /// <summary>Where packets go now.</summary>
    public DatagramAddress Address { get; set; }

    /// <summary>The last address the peer proved it receives at.</summary>
    public DatagramAddress ValidatedAddress { get; set; }

    public bool AddressValidated { get; set; }

    /// <summary>Bytes received from, and sent to, the current address while it is unvalidated: sending stays within 3× receiving.</summary>
    public long BytesFromUnvalidated { get; set; }

    public long BytesToUnvalidated { get; set; }

    /// <summary>The outstanding path challenge's 8 bytes, or null.</summary>
    public byte[]? PathChallenge { get; set; }

    public int PathChallengesSent { get; set; }

    public TimeSpan PathChallengeDeadline { get; set; }

    public TimeSpan PathChallengeSentAt { get; set; }

    public DatagramSession? Previous { get; set; }

    public DatagramSession? Current { get; set; }

    public DatagramSession? Next { get; set; }

    /// <summary>The handshake this side is running (first contact or rekey), or null.</summary>
    public InitiatorHandshake? Handshake { get; set; }

    /// <summary>Initiator: what it repeats until a packet from the responder confirms its first keys (null once one did).</summary>
    public FirstKeysConfirmation? Confirmation { get; set; }

    /// <summary>XX responder: the Finish that completed the first handshake; the same bytes again get a keepalive.</summary>
    public byte[]? AcceptedFinish { get; set; }

    /// <summary>When something was received and nothing sent since: the time a keepalive is due.</summary>
    public TimeSpan? KeepaliveDueAt { get; set; }

    /// <summary>When data was sent and nothing authenticated received since: the time the peer counts as dead.</summary>
    public TimeSpan? DeadPeerAt { get; set; }

    public TimeSpan LastSentAt { get; set; }

    public TimeSpan? LastReceivedAt { get; set; }

    /// <summary>After a close: until when the close is repeated (local) or packets are drained silently (peer's).</summary>
    public TimeSpan LingerUntil { get; set; }

    public ushort LocalCloseCode { get; set; }

    public bool ClosedByPeer { get; set; }

    public TimeSpan? SmoothedRtt { get; private set; }

    public bool EarlyDataUsed { get; set; }

    public long PacketsIn { get; set; }

    public long BytesIn { get; set; }

    public long PacketsOut { get; set; }

    public long BytesOut { get; set; }

    public long AuthenticationFailures { get; set; }

    public bool HasReceived => _receiveQueue.Count > 0;

    public int ReceiveQueueLength => _receiveQueue.Count;

    public int SendQueueLength => _sendQueue.Count;

    /// <summary>RFC 6298's smoothing (α = 1/8) of one sample.</summary>
    public void AddRttSample(TimeSpan sample)
    {
        if (sample < TimeSpan.Zero)
        {
            return;
        }
        SmoothedRtt = SmoothedRtt is { } rtt ? rtt + (sample - rtt) / 8 : sample;
    }

    /// <summary>Holds a datagram until keys exist; returns false when the oldest had to be dropped to make room.</summary>
    public bool EnqueueSend(ReadOnlySpan<byte> payload)
    {
        bool droppedOldest = false;
        if (_sendQueue.Count >= DatagramTimers.SendQueueLimit)
        {
            Pending oldest = _sendQueue.Dequeue();
            _pool.Return(oldest.Buffer, oldest.Length, wipe: true);
            droppedOldest = true;
        }
        byte[] buffer = _pool.Rent();
        payload.CopyTo(buffer);
        _sendQueue.Enqueue(new Pending(buffer, payload.Length));
        return !droppedOldest;
    }

    /// <summary>Takes the oldest held datagram out; the caller gives <paramref name="buffer"/> back with <see cref="ReturnBuffer"/>.</summary>
    public bool TryDequeueSend(out byte[] buffer, out int length)
    {
        if (_sendQueue.TryDequeue(out Pending pending))
        {
            (buffer, length) = (pending.Buffer, pending.Length);
            return true;
        }
        (buffer, length) = (null!, 0);
        return false;
    }

    /// <summary>Gives back a buffer from <see cref="TryDequeueSend"/>, wiping the plaintext it held.</summary>
    public void ReturnBuffer(byte[] buffer, int length) => _pool.Return(buffer, length, wipe: true);

    /// <summary>Queues a received datagram; false when the queue is at <paramref name="limit"/>.</summary>
    public bool EnqueueReceived(ReadOnlySpan<byte> content, DatagramReceiveFlags flags, int limit)
    {
        if (_receiveQueue.Count >= limit)
        {
            return false;
        }
        byte[] buffer = _pool.Rent();
        content.CopyTo(buffer);
        _receiveQueue.Enqueue(new Received(buffer, content.Length, flags));
        return true;
    }

    /// <summary>Copies the oldest received datagram out; throws <see cref="ArgumentException"/> (and keeps it) when it does not fit.</summary>
    public bool TryDequeueReceived(Span<byte> destination, out int length, out DatagramReceiveFlags flags)
    {
        (length, flags) = (0, DatagramReceiveFlags.None);
        if (!_receiveQueue.TryPeek(out Received received))
        {
            return false;
        }
        if (destination.Length < received.Length)
        {
            throw new ArgumentException($"The next datagram has {received.Length} bytes; the destination holds {destination.Length}.", nameof(destination));
        }
        _receiveQueue.Dequeue();
        received.Buffer.AsSpan(0, received.Length).CopyTo(destination);
        (length, flags) = (received.Length, received.Flags);
        _pool.Return(received.Buffer, received.Length, wipe: true);
        return true;
    }

    /// <summary>Every live session of this connection.</summary>
    public IEnumerable<DatagramSession> Sessions()
    {
        if (Previous is { } previous)
        {
            yield return previous;
        }
        if (Current is { } current)
        {
            yield return current;
        }
        if (Next is { } next)
        {
            yield return next;
        }
    }

    /// <summary>Wipes every key and frees every queued buffer.</summary>
    public void Dispose()
    {
        Previous?.Dispose();
        Current?.Dispose();
        Next?.Dispose();
        Previous = Current = Next = null;
        Handshake?.Dispose();
        Handshake = null;
        while (_sendQueue.TryDequeue(out Pending pending))
        {
            _pool.Return(pending.Buffer, pending.Length, wipe: true);
        }
        while (_receiveQueue.TryDequeue(out Received received))
        {
            _pool.Return(received.Buffer, received.Length, wipe: true);
        }
    }

    private readonly record struct Pending(byte[] Buffer, int Length);

    private readonly record struct Received(byte[] Buffer, int Length, DatagramReceiveFlags Flags);
}
