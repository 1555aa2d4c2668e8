using System.Text;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Trust;
using OssuaryNet.Telemetry;

namespace OssuaryNet.Datagram;

/// <summary>
/// Datagram mode: one packet socket, many connections, as a sans-I/O state machine. Packets go in through
/// <see cref="HandleDatagram"/> and come out of <see cref="TryPollTransmit"/>; time goes in through every call and
/// <see cref="HandleTimeout"/> at <see cref="NextTimeout"/>; the application sees <see cref="TryPollEvent"/>,
/// <see cref="Send"/>, <see cref="TryReceive"/> and <see cref="Close"/>. The endpoint never reads a clock, touches a
/// socket or starts a thread, and addresses are opaque byte strings of 1 to 64 bytes.
/// </summary>
/// <remarks>
/// <para>Network input never throws: a packet that is malformed, forged, replayed, late or unexpected is dropped,
/// counted under its <see cref="DatagramDropReason"/>, and changes nothing else. A Data packet's replay window is
/// committed only after its AEAD opened; the peer's address, the timers and key confirmation move only then. Caller
/// mistakes throw the standard exceptions and change nothing.</para>
/// <para>Not thread-safe: one thread at a time (the UDP wrapper serialises its calls). A <c>now</c> earlier than one
/// passed before is taken as that earlier one, so a clock that steps back fires nothing early and breaks nothing.</para>
/// </remarks>
public sealed partial class DatagramEndpoint : IDisposable
{
    private const byte PatternXX = (byte)OssuaryHandshakePattern.XX, PatternIK = (byte)OssuaryHandshakePattern.IK,
        PatternXXhfs = (byte)OssuaryHandshakePattern.XXhfs, PatternIKhfs = (byte)OssuaryHandshakePattern.IKhfs;
    private static readonly byte[] PrologueLabel = Encoding.ASCII.GetBytes("OssuaryNet datagram v1\0");

    private readonly OssuaryKeyPair _identity;
    private readonly NoiseProtocol _xx, _ik, _xxhfs, _ikhfs;
    private readonly OssuaryPostQuantum _postQuantum;
    private readonly byte[] _prologue;
    private readonly byte[] _mac1KeyXX = new byte[Mac1.KeySize], _mac1KeyOwn = new byte[Mac1.KeySize];
    private readonly DatagramAddressValidation _validation;
    private readonly bool _acceptConnections, _acceptEarlyData, _allowRoaming;
    private readonly int _maxDatagramSize, _receiveQueueLimit, _maxConnections;
    private readonly TimeSpan? _persistentKeepalive;
    private readonly PublicKeyLookup? _lookup;
    private readonly DateTimeOffset _wallClockAtStart;
    private DateTimeOffset _lastTimestamp;
    private readonly TimeSpan _startedAt;
    private readonly IRandomSource _random;
    private readonly EphemeralKeySource _ephemerals;
    private readonly AddressTokens _tokens;
    private readonly HalfOpenTable _halfOpen;
    private readonly SourceGrouping _sources;
    private readonly ConnectionBudget _budget;
    private readonly List<DatagramConnection> _victims = new();
    private readonly TimeSpan? _unusedTimeout;
    private readonly LoadMonitor _load;
    private readonly AddressRateLimiter _rateLimiter = new();
    private readonly PeerTimestamps _timestamps = new();
    private readonly PacketBufferPool _buffers;
    private readonly TransmitQueue _transmit;
    private readonly Queue<DatagramEvent> _events = new();
    private readonly Dictionary<long, DatagramConnection> _connections = new();
    private readonly Dictionary<uint, DatagramSession> _sessions = new();
    private readonly Dictionary<uint, DatagramConnection> _initiating = new();
    private readonly Dictionary<long, HalfOpenHandshake> _awaitingVerdict = new();
    private readonly List<DatagramConnection> _work = new();
    private readonly Action<HalfOpenHandshake> _onHalfOpenExpired; // made once, not per HandleTimeout call
    private readonly byte[] _receiveScratch; // opened inner plaintexts and handshake payloads, one packet at a time
    private readonly byte[] _sendScratch;    // inner plaintexts being sealed; never the same buffer, because a packet received can cause one sent
    private readonly DatagramStatistics _statistics = new();
    private readonly OssuarySuite _suite;
    private long _lastHandle;
    private TimeSpan _now;
    private bool _disposed;

    /// <summary>Creates an endpoint; <paramref name="now"/> is the caller's monotonic time, the origin of every later one.</summary>
    /// <exception cref="ArgumentException">The options are incomplete or out of range.</exception>
    public DatagramEndpoint(DatagramOptions options, TimeSpan now)
        : this(options, now, SystemRandomSource.Instance)
    {
    }

    /// <summary>As the public constructor, with the randomness (session ids, jitter, ephemeral keys, secrets) from <paramref name="random"/>.</summary>
    internal DatagramEndpoint(DatagramOptions options, TimeSpan now, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        options.Validate();
        CheckTime(now);
        _identity = options.Identity!;
        string suite = options.Suite == OssuarySuite.ChaChaPolyBlake2b ? "ChaChaPoly_BLAKE2b" : "AESGCM_SHA256";
        _xx = NoiseProtocol.Parse($"Noise_XX_25519_{suite}");
        _ik = NoiseProtocol.Parse($"Noise_IK_25519_{suite}");
        _xxhfs = NoiseProtocol.Parse($"Noise_XXhfs_25519+MLKEM768_{suite}");
        _ikhfs = NoiseProtocol.Parse($"Noise_IKhfs_25519+MLKEM768_{suite}");
        _postQuantum = options.PostQuantum;
        _suite = options.Suite;
        byte[] label = Encoding.UTF8.GetBytes(options.ServiceLabel);
        _prologue = [.. PrologueLabel, (byte)options.Suite, (byte)label.Length, .. label];
        Mac1.DeriveKey(label, _mac1KeyXX);
        Mac1.DeriveKey(_identity.PublicKey.Bytes, _mac1KeyOwn);
        _validation = options.AddressValidation;
        _acceptConnections = options.AcceptConnections;
        _acceptEarlyData = options.AcceptEarlyData;
        _allowRoaming = options.AllowRoaming;
        _maxDatagramSize = options.MaxDatagramSize;
        _receiveQueueLimit = options.ReceiveQueueLimit;
        _maxConnections = options.MaxConnections;
        _persistentKeepalive = options.PersistentKeepalive;
        _lookup = options.ObtainPublicKey;
        _wallClockAtStart = options.WallClockAtStart;
        _startedAt = _now = now;
        _random = random;
        _ephemerals = random.Fill;
        _tokens = new AddressTokens(random, now);
        _halfOpen = new HalfOpenTable(options.MaxHalfOpen, options.MaxHalfOpenPerAddress);
        _sources = new SourceGrouping(options.AddressFormat, options.Ipv6SourcePrefixLength);
        _budget = new ConnectionBudget(options.MaxConnections, options.ConnectionsPerSource, options.ConnectionsPerPeer);
        _unusedTimeout = options.UnusedConnectionTimeout;
        _onHalfOpenExpired = OnHalfOpenExpired;
        _load = new LoadMonitor(options.MaxHalfOpen, options.LoadInitiationsPerSecond, _statistics);
        _buffers = new PacketBufferPool(_maxDatagramSize);
        _transmit = new TransmitQueue(_buffers);
        _receiveScratch = new byte[_maxDatagramSize];
        _sendScratch = new byte[_maxDatagramSize];
    }

    /// <summary>This node's static public key.</summary>
    public OssuaryPublicKey LocalKey => _identity.PublicKey;

    /// <summary>The largest datagram <see cref="Send"/> takes: the largest packet less 16 bytes of header, 16 of tag and 1 of content type.</summary>
    public int MaxPayloadSize => _maxDatagramSize - DatagramPacket.DataHeaderSize - DatagramPacket.TagSize - 1;

    /// <summary>The largest early data <see cref="Connect"/> takes (it must fit one Initiation with the longest token).</summary>
    public int MaxEarlyDataSize => _maxDatagramSize - InitiationOverhead - IkMessage1Overhead - (_postQuantum == OssuaryPostQuantum.Off ? 0 : KemKeyOverhead);

    /// <summary>A copy of the endpoint's counters.</summary>
    public DatagramStatistics Statistics
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _statistics.HalfOpenHandshakes = _halfOpen.Pending;
            _statistics.Connections = _connections.Count;
            return _statistics.Clone();
        }
    }

    // Initiation framing around the Noise message: 8 header bytes, the longest token, the length and mac1.
    private const int InitiationOverhead = 8 + DatagramPacket.MaxTokenSize + 2 + DatagramPacket.MacSize;

    // IK message 1's payload before any early data: the timestamp, the initiator's session id (bound to the handshake)
    // and the responder's session id of the connection being rekeyed (0 for a new connection).
    private const int IkPayloadPrefix = PeerTimestamps.TimestampSize + 4 + 4;
    private const int IkRekeyOfOffset = PeerTimestamps.TimestampSize + 4;

    // IK message 1 without early data: e (32), s (32 + 16), payload tag (16), payload prefix.
    private const int IkMessage1Overhead = 32 + 48 + 16 + IkPayloadPrefix;

    // What IKhfs adds to message 1: the encrypted ML-KEM-768 key and its tag.
    private const int KemKeyOverhead = 1184 + 16;

    // The pattern byte of a packet as the shared family rules see it (HandshakePatternFamily).
    private static bool IsXXFamily(byte pattern) => ((OssuaryHandshakePattern)pattern).IsXXFamily();

    private static bool IsHybrid(byte pattern) => ((OssuaryHandshakePattern)pattern).IsHybrid();

    /// <summary>The pattern this endpoint initiates with: XX or IK by whether it knows the key, hybrid unless its policy is off.</summary>
    private byte InitiatorPattern(bool knowsKey) =>
        (byte)(knowsKey ? OssuaryHandshakePattern.IK : OssuaryHandshakePattern.XX).WithHybrid(_postQuantum != OssuaryPostQuantum.Off);

    /// <summary>Takes the next packet to send: copies it into <paramref name="packet"/> (allow <see cref="DatagramOptions.MaxDatagramSize"/> bytes) and its destination into <paramref name="address"/> (allow 64).</summary>
    /// <exception cref="ArgumentException">A buffer is too small for the next packet (it stays queued).</exception>
    public bool TryPollTransmit(Span<byte> packet, Span<byte> address, out int packetLength, out int addressLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _transmit.TryDequeue(packet, address, out packetLength, out addressLength);
    }

    /// <summary>Takes the next event.</summary>
    public bool TryPollEvent(out DatagramEvent @event)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _events.TryDequeue(out @event);
    }

    /// <summary>
    /// Starts a connection to <paramref name="address"/>. With the peer's key (given, or from
    /// <see cref="DatagramOptions.ObtainPublicKey"/>) the handshake is IK: one round trip, and
    /// <paramref name="earlyData"/> rides in the Initiation. Without, it is XX, and the peer's key is put to the caller
    /// (<see cref="DatagramEventKind.VerificationRequired"/>) before the connection completes.
    /// </summary>
    /// <exception cref="ArgumentException">An address that is not 1 to 64 bytes, early data without a key or longer than <see cref="MaxEarlyDataSize"/>, or a key that cannot be a peer's.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is more than 1000 years from 0.</exception>
    /// <exception cref="InvalidOperationException">The endpoint holds <see cref="DatagramOptions.MaxConnections"/> connections, none of them a responder's unused one that could give its place.</exception>
    public DatagramHandle Connect(ReadOnlySpan<byte> address, OssuaryPublicKey? peerKey, TimeSpan now, ReadOnlySpan<byte> earlyData = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DatagramAddress to = DatagramAddress.From(address);
        CheckTime(now);
        peerKey ??= _lookup?.Invoke(address);
        if (!earlyData.IsEmpty && peerKey is null)
        {
            throw new ArgumentException("Early data needs the peer's key (IK); the XX handshake has no early data.", nameof(earlyData));
        }
        if (earlyData.Length > MaxEarlyDataSize)
        {
            throw new ArgumentException($"Early data is at most {MaxEarlyDataSize} bytes here.", nameof(earlyData));
        }
        if (_budget.Plan(_connections.Count, source: null, peer: null, _victims) is not null)
        {
            throw new InvalidOperationException($"The endpoint holds its most connections ({_maxConnections}).");
        }
        now = Clamp(now);
        EvictVictims(now);
        var connection = new DatagramConnection(NewHandle(), isInitiator: true, (OssuaryHandshakePattern)InitiatorPattern(knowsKey: peerKey is not null), to, now, _buffers)
        {
            PeerKey = peerKey,
            ExpectedKey = peerKey,
            AddressValidated = true, // this side chose the address
            ValidatedAddress = to,
        };
        try
        {
            StartHandshake(connection, now, earlyData);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.InvalidKey)
        {
            connection.Dispose();
            throw new ArgumentException("The peer key is a low-order point, which no peer can hold.", nameof(peerKey), e);
        }
        _connections.Add(connection.Handle.Value, connection);
        return connection.Handle;
    }

    /// <summary>
    /// Takes one received packet. Never throws for anything the network put in <paramref name="datagram"/>: what is
    /// not taken is dropped and counted (<see cref="DatagramStatistics.Dropped"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="from"/> is not 1 to 64 bytes (the caller's mistake).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is more than 1000 years from 0.</exception>
    public void HandleDatagram(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> from, TimeSpan now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DatagramAddress source = DatagramAddress.From(from);
        CheckTime(now);
        now = Clamp(now);
        _statistics.CountIn(datagram.Length >= 1 ? datagram[0] : (byte)0, datagram.Length);
        if (datagram.Length > _maxDatagramSize)
        {
            Drop(DatagramDropReason.Oversize);
            return;
        }
        if (!DatagramPacket.TryParse(datagram, out ParsedDatagram parsed, out DatagramDropReason reason))
        {
            Drop(reason);
            return;
        }
        switch (parsed.Type)
        {
            case DatagramPacketType.Data:
                HandleData(parsed, datagram.Length, source, now);
                break;
            case DatagramPacketType.Initiation:
                HandleInitiation(parsed, source, now);
                break;
            case DatagramPacketType.Response:
                HandleResponse(parsed, source, now);
                break;
            case DatagramPacketType.Finish:
                HandleFinish(parsed, datagram, source, now);
                break;
            default:
                HandleCookieReply(parsed, now);
                break;
        }
    }

    /// <summary>The key awaiting a verdict on <paramref name="handle"/> (after <see cref="DatagramEventKind.VerificationRequired"/>).</summary>
    /// <exception cref="InvalidOperationException">No verification is pending there.</exception>
    public PeerIdentity PeerToVerify(DatagramHandle handle)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_awaitingVerdict.TryGetValue(handle.Value, out HalfOpenHandshake? entry))
        {
            return new PeerIdentity(entry.PeerKey!, entry.Address.ToString(), PeerIsServer: false) { Pattern = (OssuaryHandshakePattern)entry.Pattern };
        }
        if (_connections.TryGetValue(handle.Value, out DatagramConnection? connection) && connection.Handshake is { AwaitingVerdict: true } handshake)
        {
            return new PeerIdentity(new OssuaryPublicKey(handshake.Noise.RemoteStaticPublicKey), connection.Address.ToString(), PeerIsServer: true)
            {
                Pattern = (OssuaryHandshakePattern)handshake.Pattern,
            };
        }
        throw new InvalidOperationException($"No peer verification is pending on {handle}.");
    }

    /// <summary>
    /// Gives the verdict on the key of <see cref="PeerToVerify"/>. Accepted: the handshake goes on (a responder sends its
    /// Response or accepts the connection; an initiator sends its Finish). Rejected: nothing is sent, the handshake
    /// ends, and an initiator's connection closes with <see cref="DatagramCloseReason.PeerRejected"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No verification is pending there (it may have expired: a <see cref="DatagramEventKind.Closed"/> event said so).</exception>
    public void CompletePeerVerification(DatagramHandle handle, PeerVerdict verdict, TimeSpan now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckTime(now);
        PeerIdentity awaiting = PeerToVerify(handle);
        now = Clamp(now);
        VerifiedPeer? verified = verdict.IsAccepted ? VerifiedPeer.FromAcceptedVerdict(awaiting, verdict) : null;
        if (_awaitingVerdict.Remove(handle.Value, out HalfOpenHandshake? entry))
        {
            ContinueAsResponder(entry, verified, now);
        }
        else
        {
            ContinueAsInitiator(_connections[handle.Value], verified, now);
        }
    }

    /// <summary>
    /// Seals <paramref name="payload"/> for the peer (at most <see cref="MaxPayloadSize"/> bytes), or holds it while
    /// the handshake runs. Datagrams are unreliable and unordered: a packet the network loses is not resent.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is more than 1000 years from 0.</exception>
    public DatagramSendResult Send(DatagramHandle handle, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckTime(now);
        if (!_connections.TryGetValue(handle.Value, out DatagramConnection? connection) || connection.Stage == DatagramConnectionStage.Closing)
        {
            return DatagramSendResult.Closed;
        }
        if (payload.Length > MaxPayloadSize)
        {
            return DatagramSendResult.TooLarge;
        }
        now = Clamp(now);
        return SendDatagram(connection, payload, now);
    }

    /// <summary>Takes the oldest datagram received on <paramref name="handle"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is smaller than the datagram (it stays queued; <see cref="MaxPayloadSize"/> always suffices).</exception>
    public bool TryReceive(DatagramHandle handle, Span<byte> destination, out int length, out DatagramReceiveFlags flags)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        (length, flags) = (0, DatagramReceiveFlags.None);
        return _connections.TryGetValue(handle.Value, out DatagramConnection? connection) && connection.TryDequeueReceived(destination, out length, out flags);
    }

    /// <summary>
    /// Closes a connection: an authenticated close carrying <paramref name="reason"/> goes to the peer (when keys
    /// exist), and is repeated for 3 s once per packet that still arrives. A <see cref="DatagramEventKind.Closed"/>
    /// event follows. Closing a closed connection does nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="now"/> is more than 1000 years from 0.</exception>
    public void Close(DatagramHandle handle, ushort reason, TimeSpan now)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CheckTime(now);
        if (!_connections.TryGetValue(handle.Value, out DatagramConnection? connection) || connection.Stage == DatagramConnectionStage.Closing)
        {
            return;
        }
        now = Clamp(now);
        connection.LocalCloseCode = reason;
        if (UsableSession(connection, now) is { } session)
        {
            SendClose(connection, session, now);
            BeginLinger(connection, now);
            Raise(new DatagramEvent(DatagramEventKind.Closed, handle) { CloseReason = DatagramCloseReason.Local });
        }
        else
        {
            EndConnection(connection, DatagramCloseReason.Local);
        }
    }

    /// <summary>
    /// The endpoint ends a connection of its own accord (unused, or evicted for a newcomer): one authenticated close
    /// with <paramref name="code"/> if keys allow, then it is gone at once, without lingering, so that its place is free.
    /// </summary>
    private void Expel(DatagramConnection connection, ushort code, DatagramCloseReason reason, TimeSpan now)
    {
        connection.LocalCloseCode = code;
        if (UsableSession(connection, now) is { } session)
        {
            SendClose(connection, session, now);
        }
        EndConnection(connection, reason);
    }

    /// <summary>Closes the connections the last <see cref="ConnectionBudget.Plan"/> chose to make room.</summary>
    private void EvictVictims(TimeSpan now)
    {
        foreach (DatagramConnection victim in _victims)
        {
            _statistics.ConnectionsEvicted++;
            Expel(victim, DatagramCloseCodes.Evicted, DatagramCloseReason.Evicted, now);
        }
        _victims.Clear();
    }

    /// <summary>A snapshot of one connection.</summary>
    /// <exception cref="ArgumentException">The endpoint has no such connection (never, or no longer).</exception>
    public DatagramConnectionInfo GetInfo(DatagramHandle handle)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_connections.TryGetValue(handle.Value, out DatagramConnection? c))
        {
            throw new ArgumentException($"No connection {handle} here.", nameof(handle));
        }
        DatagramSession? current = c.Current;
        return new DatagramConnectionInfo
        {
            PeerKey = c.IsInitiator && c.Stage == DatagramConnectionStage.Connecting ? c.ExpectedKey : c.PeerKey,
            IsInitiator = c.IsInitiator,
            Pattern = c.Pattern,
            EarlyDataUsed = c.EarlyDataUsed,
            IsEstablished = c.Stage == DatagramConnectionStage.Established,
            Address = c.Address.Bytes.ToArray(),
            AddressValidated = c.AddressValidated,
            LastHandshakeAt = current?.Keys.CreatedAt,
            KeyPairAge = current is null ? null : _now - current.Keys.CreatedAt,
            SmoothedRtt = c.SmoothedRtt,
            PacketsIn = c.PacketsIn,
            BytesIn = c.BytesIn,
            PacketsOut = c.PacketsOut,
            BytesOut = c.BytesOut,
            AuthenticationFailures = c.AuthenticationFailures,
            EstimatedLoss = current?.EstimatedLoss ?? 0,
            LargestReorderDepth = c.Sessions().Select(s => s.LargestReorderDepth).DefaultIfEmpty().Max(),
        };
    }

    /// <summary>Moves the send counter of a connection's current keys, so that tests reach the message limits without 2^60 packets.</summary>
    internal void SetSendCounterForTests(DatagramHandle handle, ulong counter) =>
        _connections[handle.Value].Current!.Keys.NextSendCounter = counter;

    /// <summary>Wipes every key and secret and frees every buffer. Nothing is sent.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (DatagramConnection connection in _connections.Values)
        {
            connection.Dispose();
        }
        _connections.Clear();
        _sessions.Clear();
        _halfOpen.Dispose();
        _tokens.Dispose();
        _transmit.Dispose();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_receiveScratch);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_sendScratch);
    }

    private TimeSpan Clamp(TimeSpan now) => _now = now > _now ? now : _now;

    /// <summary>The farthest a time passed in may be from 0, so that no deadline or wall-clock time computed from it overflows.</summary>
    public static TimeSpan MaxTime { get; } = TimeSpan.FromDays(365_250);

    private static void CheckTime(TimeSpan now, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(now))] string? name = null)
    {
        if (now > MaxTime || now < -MaxTime)
        {
            throw new ArgumentOutOfRangeException(name, now, $"A time passed to a datagram endpoint is within {MaxTime.TotalDays:0} days (1000 years) of 0.");
        }
    }

    private DatagramHandle NewHandle() => new(++_lastHandle);

    private void Raise(in DatagramEvent @event) => _events.Enqueue(@event);

    private void Drop(DatagramDropReason reason)
    {
        _statistics.CountDrop(reason);
        OssuaryTelemetry.DatagramDropped(reason);
    }

    /// <summary>A random session id ≠ 0 that no session, half-open handshake or outgoing handshake of this endpoint uses.</summary>
    private uint NewLocalId()
    {
        Span<byte> bytes = stackalloc byte[4];
        while (true)
        {
            _random.Fill(bytes);
            uint id = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes);
            if (id != 0 && !_sessions.ContainsKey(id) && !_initiating.ContainsKey(id) && !_halfOpen.ContainsLocalId(id))
            {
                return id;
            }
        }
    }

    /// <summary>
    /// The wall-clock time an IK Initiation carries: the start's plus the time elapsed, and always later than the one
    /// before (by 100 ns at least), so that two Initiations of this key made at one instant (two connections rekeying
    /// together) are both new to the responder rather than the second one stale for ever.
    /// </summary>
    private DateTimeOffset NextTimestamp(TimeSpan now)
    {
        DateTimeOffset wallClock = _wallClockAtStart + (now - _startedAt);
        _lastTimestamp = wallClock > _lastTimestamp ? wallClock : _lastTimestamp.AddTicks(1);
        return _lastTimestamp;
    }

    /// <summary>0 to 333 ms, from the random source.</summary>
    private TimeSpan Jitter()
    {
        Span<byte> bytes = stackalloc byte[2];
        _random.Fill(bytes);
        return TimeSpan.FromMilliseconds(System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(bytes) % ((int)DatagramTimers.MaxJitter.TotalMilliseconds + 1));
    }

    private HandshakeState NewHandshake(bool initiator, byte pattern, ReadOnlySpan<byte> remoteStatic) =>
        new(pattern switch { PatternXX => _xx, PatternIK => _ik, PatternXXhfs => _xxhfs, _ => _ikhfs }, initiator, _prologue, _identity.PrivateKey, remoteStatic,
            ephemeralSource: _ephemerals, localStaticPublicKey: _identity.PublicKey.Bytes, staticAgreement: _identity);

    /// <summary>Queues a built packet for the caller to send, and counts it; a full queue drops it.</summary>
    private bool Transmit(byte[] buffer, int length, in DatagramAddress to)
    {
        byte type = buffer[0];
        if (!_transmit.Enqueue(buffer, length, to))
        {
            _statistics.TransmitsDropped++;
            return false;
        }
        _statistics.CountOut(type, length);
        return true;
    }

    private bool Transmit(ReadOnlySpan<byte> packet, in DatagramAddress to)
    {
        byte[] buffer = _transmit.Rent();
        packet.CopyTo(buffer);
        return Transmit(buffer, packet.Length, to);
    }

    private void BeginLinger(DatagramConnection connection, TimeSpan now)
    {
        connection.Stage = DatagramConnectionStage.Closing;
        connection.LingerUntil = now + DatagramTimers.CloseLinger;
        AbandonHandshake(connection);
    }

    /// <summary>Ends a connection now: a Closed event, every route to it removed, its keys wiped.</summary>
    private void EndConnection(DatagramConnection connection, DatagramCloseReason reason)
    {
        Raise(new DatagramEvent(DatagramEventKind.Closed, connection.Handle) { CloseReason = reason });
        RemoveConnection(connection);
    }

    private void RemoveConnection(DatagramConnection connection)
    {
        foreach (DatagramSession session in connection.Sessions())
        {
            _sessions.Remove(session.LocalId);
        }
        if (connection.Handshake is { } handshake)
        {
            _initiating.Remove(handshake.LocalId);
        }
        _connections.Remove(connection.Handle.Value);
        _budget.Remove(connection);
        connection.Dispose();
    }
}
