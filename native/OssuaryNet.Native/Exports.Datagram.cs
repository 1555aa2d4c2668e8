using System.Runtime.InteropServices;
using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Native;

/// <summary>The ossuary_dgram_* functions: datagram mode (one packet socket, many connections), sans-I/O.</summary>
internal static unsafe partial class Exports
{
    /// <summary>OSSUARY_QUEUED: a datagram held until the handshake completes.</summary>
    private const int Queued = 8;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_new")]
    public static nint DatagramNew(byte* secretKey, int acceptConnections, ulong nowMilliseconds)
    {
        try
        {
            if (acceptConnections is not (0 or 1))
            {
                throw new BoundaryException(NativeStatus.InvalidArgument, $"accept_connections must be 0 or 1, not {acceptConnections}.");
            }
            TimeSpan now = Milliseconds(nowMilliseconds);
            var identity = OssuaryKeyPair.FromPrivateKey(Boundary.Key(secretKey, "secret_key"));
            return HandleTable.Add(new NativeDatagramEndpoint(identity, acceptConnections == 1, now));
        }
        catch (Exception e)
        {
            LastError.From(e);
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_free")]
    public static int DatagramFree(nint handle) => Free<NativeDatagramEndpoint>(handle);

    // ---- settings --------------------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_suite")]
    public static int DatagramSetSuite(nint handle, int suite) => UseDatagram(handle, d =>
    {
        if (!Enum.IsDefined((OssuarySuite)suite))
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown suite {suite}.");
        }
        d.Set(o => o.Suite, (o, v) => o.Suite = v, (OssuarySuite)suite);
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_post_quantum")]
    public static int DatagramSetPostQuantum(nint handle, int policy) => UseDatagram(handle, d =>
    {
        if (!Enum.IsDefined((OssuaryPostQuantum)policy))
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown post-quantum policy {policy}.");
        }
        d.Set(o => o.PostQuantum, (o, v) => o.PostQuantum = v, (OssuaryPostQuantum)policy);
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_service_label")]
    public static int DatagramSetServiceLabel(nint handle, byte* label) =>
        UseDatagram(handle, d => d.Set(o => o.ServiceLabel, (o, v) => o.ServiceLabel = v, Boundary.Utf8(label, "label")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_address_validation")]
    public static int DatagramSetAddressValidation(nint handle, int policy) => UseDatagram(handle, d =>
    {
        if (!Enum.IsDefined((DatagramAddressValidation)policy))
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown address validation policy {policy}.");
        }
        d.Set(o => o.AddressValidation, (o, v) => o.AddressValidation = v, (DatagramAddressValidation)policy);
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_accept_early_data")]
    public static int DatagramSetAcceptEarlyData(nint handle, int accept) =>
        UseDatagram(handle, d => d.Set(o => o.AcceptEarlyData, (o, v) => o.AcceptEarlyData = v, Flag(accept, "accept")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_allow_roaming")]
    public static int DatagramSetAllowRoaming(nint handle, int allow) =>
        UseDatagram(handle, d => d.Set(o => o.AllowRoaming, (o, v) => o.AllowRoaming = v, Flag(allow, "allow")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_max_datagram_size")]
    public static int DatagramSetMaxDatagramSize(nint handle, nuint size) =>
        UseDatagram(handle, d => d.Set(o => o.MaxDatagramSize, (o, v) => o.MaxDatagramSize = v, (int)Math.Min(size, int.MaxValue)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_max_connections")]
    public static int DatagramSetMaxConnections(nint handle, uint count) =>
        UseDatagram(handle, d => d.Set(o => o.MaxConnections, (o, v) => o.MaxConnections = v, (int)Math.Min(count, int.MaxValue)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_max_connections_per_source")]
    public static int DatagramSetMaxConnectionsPerSource(nint handle, uint count) =>
        UseDatagram(handle, d => d.Set(o => o.MaxConnectionsPerSource, (o, v) => o.MaxConnectionsPerSource = v, count == 0 ? null : (int)Math.Min(count, int.MaxValue)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_max_connections_per_peer")]
    public static int DatagramSetMaxConnectionsPerPeer(nint handle, uint count) =>
        UseDatagram(handle, d => d.Set(o => o.MaxConnectionsPerPeer, (o, v) => o.MaxConnectionsPerPeer = v, count == 0 ? null : (int)Math.Min(count, int.MaxValue)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_unused_timeout")]
    public static int DatagramSetUnusedTimeout(nint handle, uint milliseconds) =>
        UseDatagram(handle, d => d.Set(o => o.UnusedConnectionTimeout, (o, v) => o.UnusedConnectionTimeout = v, milliseconds == 0 ? null : TimeSpan.FromMilliseconds(milliseconds)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_address_format")]
    public static int DatagramSetAddressFormat(nint handle, int format, uint ipv6PrefixBits) => UseDatagram(handle, d =>
    {
        if (!Enum.IsDefined((DatagramAddressFormat)format))
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown address format {format} (OSSUARY_DGRAM_ADDRESS_*).");
        }
        // Both in one Set: a prefix the options refuse must leave the format as it was too (a valid format set first
        // would otherwise stay, and the call fail having changed something).
        d.Set(o => (o.AddressFormat, o.Ipv6SourcePrefixLength), (o, v) => (o.AddressFormat, o.Ipv6SourcePrefixLength) = v,
            ((DatagramAddressFormat)format, ipv6PrefixBits == 0 ? 64 : (int)Math.Min(ipv6PrefixBits, 1000)));
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_persistent_keepalive")]
    public static int DatagramSetPersistentKeepalive(nint handle, uint milliseconds) =>
        UseDatagram(handle, d => d.Set(o => o.PersistentKeepalive, (o, v) => o.PersistentKeepalive = v, milliseconds == 0 ? null : TimeSpan.FromMilliseconds(milliseconds)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_wall_clock")]
    public static int DatagramSetWallClock(nint handle, ulong unixMilliseconds) => UseDatagram(handle, d =>
    {
        if (unixMilliseconds > (ulong)DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, "unix_ms is past the year 9999.");
        }
        d.Set(o => o.WallClockAtStart, (o, v) => o.WallClockAtStart = v, DateTimeOffset.FromUnixTimeMilliseconds((long)unixMilliseconds));
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_add_authorized_key")]
    public static int DatagramAddAuthorizedKey(nint handle, byte* publicKey) =>
        UseDatagram(handle, d => d.AddAuthorizedKey(new OssuaryPublicKey(Boundary.Key(publicKey, "public_key"))));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_verify_callback")]
    public static int DatagramSetVerifyCallback(nint handle, nint callback, nint userData) => UseDatagram(handle, d => d.SetCallback(callback, userData));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_accept_any_peer")]
    public static int DatagramSetAcceptAnyPeer(nint handle) => UseDatagram(handle, d => d.SetAcceptAny());

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_set_deferred_verification")]
    public static int DatagramSetDeferredVerification(nint handle) => UseDatagram(handle, d => d.SetDeferred());

    // ---- driving the endpoint --------------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_connect")]
    public static int DatagramConnect(nint handle, byte* address, nuint addressLength, byte* peerKey, byte* earlyData, nuint earlyDataLength, ulong nowMilliseconds, ulong* connection)
    {
        try
        {
            Boundary.Require(connection, "conn");
            *connection = 0;
            OssuaryPublicKey? key = peerKey == null ? null : new OssuaryPublicKey(Boundary.Key(peerKey, "peer_key"));
            ReadOnlySpan<byte> to = Boundary.In(address, addressLength, "address");
            ReadOnlySpan<byte> early = Boundary.In(earlyData, earlyDataLength, "early_data");
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            TimeSpan now = Milliseconds(nowMilliseconds);
            List<PendingVerdict>? toJudge;
            lock (native)
            {
                *connection = (ulong)native.Start().Connect(to, key, now, early).Value;
                toJudge = native.CollectEvents();
            }
            JudgeAndContinue(native, toJudge, now);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_handle_datagram")]
    public static int DatagramHandleDatagram(nint handle, byte* packet, nuint packetLength, byte* from, nuint fromLength, ulong nowMilliseconds)
    {
        try
        {
            ReadOnlySpan<byte> datagram = Boundary.In(packet, packetLength, "packet");
            ReadOnlySpan<byte> source = Boundary.In(from, fromLength, "from");
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            TimeSpan now = Milliseconds(nowMilliseconds);
            List<PendingVerdict>? toJudge;
            lock (native)
            {
                native.Start().HandleDatagram(datagram, source, now);
                toJudge = native.CollectEvents();
            }
            JudgeAndContinue(native, toJudge, now);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_poll_transmit")]
    public static int DatagramPollTransmit(nint handle, byte* packet, nuint packetCapacity, nuint* packetLength, byte* address, nuint addressCapacity, nuint* addressLength)
    {
        try
        {
            Boundary.Zero(packetLength);
            Boundary.Zero(addressLength);
            Boundary.Require(packetLength, "packet_len");
            Boundary.Require(addressLength, "address_len");
            Span<byte> packetBuffer = Boundary.Out(packet, packetCapacity, "packet");
            Span<byte> addressBuffer = Boundary.Out(address, addressCapacity, "address");
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            lock (native)
            {
                DatagramEndpoint endpoint = native.Start();
                bool taken;
                int wrote, addressWrote;
                try
                {
                    taken = endpoint.TryPollTransmit(packetBuffer, addressBuffer, out wrote, out addressWrote);
                }
                catch (ArgumentException)
                {
                    // The packet stays queued; a buffer of the largest datagram and 64 address bytes always suffices.
                    return LastError.Set(NativeStatus.BufferTooSmall, "The next packet needs a larger buffer: allow ossuary_dgram_max_datagram_bytes(ep) for the packet and OSSUARY_DGRAM_MAX_ADDRESS_BYTES for its address.");
                }
                *packetLength = (nuint)wrote;
                *addressLength = (nuint)addressWrote;
                return taken ? 1 : 0;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_next_timeout")]
    public static int DatagramNextTimeout(nint handle, ulong* deadlineMilliseconds)
    {
        try
        {
            Boundary.Require(deadlineMilliseconds, "deadline_ms");
            *deadlineMilliseconds = 0;
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            lock (native)
            {
                if (native.Start().NextTimeout() is not { } deadline)
                {
                    return 0;
                }
                *deadlineMilliseconds = (ulong)Math.Ceiling(deadline.TotalMilliseconds);
                return 1;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_handle_timeout")]
    public static int DatagramHandleTimeout(nint handle, ulong nowMilliseconds)
    {
        try
        {
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            TimeSpan now = Milliseconds(nowMilliseconds);
            List<PendingVerdict>? toJudge;
            lock (native)
            {
                native.Start().HandleTimeout(now);
                toJudge = native.CollectEvents();
            }
            JudgeAndContinue(native, toJudge, now);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    /// <summary>ossuary_dgram_event: uint64 conn, int32 kind, int32 close_reason, uint32 peer_close_code, uint32 reserved.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NativeDatagramEvent
    {
        public ulong Connection;
        public int Kind;
        public int CloseReason;
        public uint PeerCloseCode;
        public uint Reserved;
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_poll_event")]
    public static int DatagramPollEvent(nint handle, void* eventOut)
    {
        try
        {
            Boundary.Require(eventOut, "event");
            var output = (NativeDatagramEvent*)eventOut;
            *output = default;
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            lock (native)
            {
                if (!native.TryTakeEvent(out DatagramEvent e))
                {
                    return 0;
                }
                *output = new NativeDatagramEvent
                {
                    Connection = (ulong)e.Handle.Value,
                    Kind = (int)e.Kind,
                    CloseReason = (int)e.CloseReason,
                    PeerCloseCode = e.PeerCloseCode,
                };
                return 1;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_complete_verification")]
    public static int DatagramCompleteVerification(nint handle, ulong connection, int accept, ulong nowMilliseconds)
    {
        try
        {
            if (accept is not (0 or 1))
            {
                throw new BoundaryException(NativeStatus.InvalidArgument, $"accept must be 1 (trust the peer) or 0 (reject it), not {accept}.");
            }
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            TimeSpan now = Milliseconds(nowMilliseconds);
            List<PendingVerdict>? toJudge;
            lock (native)
            {
                DatagramEndpoint endpoint = native.Start();
                DatagramHandle target = ConnectionId(connection);
                PeerIdentity peer = PendingPeer(endpoint, target);
                endpoint.CompletePeerVerification(target, accept == 1 ? PeerVerdict.Accept() : PeerVerdict.Reject($"The application rejected the peer with fingerprint {peer.PublicKey.Fingerprint}."), now);
                toJudge = native.CollectEvents();
            }
            JudgeAndContinue(native, toJudge, now);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_send")]
    public static int DatagramSend(nint handle, ulong connection, byte* data, nuint length, ulong nowMilliseconds)
    {
        try
        {
            ReadOnlySpan<byte> payload = Boundary.In(data, length, "data");
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            TimeSpan now = Milliseconds(nowMilliseconds);
            lock (native)
            {
                DatagramEndpoint endpoint = native.Start();
                return endpoint.Send(ConnectionId(connection), payload, now) switch
                {
                    DatagramSendResult.Sent => NativeStatus.Ok,
                    DatagramSendResult.Queued => Queued,
                    DatagramSendResult.Closed => NativeStatus.Closed,
                    _ => LastError.Set(NativeStatus.From(OssuaryErrorCode.RecordTooLarge), $"A datagram is at most {endpoint.MaxPayloadSize} bytes here (ossuary_dgram_max_payload_bytes); this one has {payload.Length}."),
                };
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_recv")]
    public static int DatagramRecv(nint handle, ulong connection, byte* output, nuint capacity, nuint* written, int* flags)
    {
        try
        {
            Boundary.Zero(written);
            Boundary.Require(written, "written");
            if (flags != null)
            {
                *flags = 0;
            }
            Span<byte> destination = Boundary.Out(output, capacity, "out");
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            lock (native)
            {
                DatagramEndpoint endpoint = native.Start();
                bool taken;
                int length;
                DatagramReceiveFlags received;
                try
                {
                    taken = endpoint.TryReceive(ConnectionId(connection), destination, out length, out received);
                }
                catch (ArgumentException)
                {
                    return LastError.Set(NativeStatus.BufferTooSmall, $"The next datagram needs a larger buffer: ossuary_dgram_max_payload_bytes ({endpoint.MaxPayloadSize}) always suffices.");
                }
                *written = (nuint)length;
                if (flags != null)
                {
                    *flags = (int)received;
                }
                return taken ? 1 : 0;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_close")]
    public static int DatagramClose(nint handle, ulong connection, ushort code, ulong nowMilliseconds)
    {
        try
        {
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            TimeSpan now = Milliseconds(nowMilliseconds);
            lock (native)
            {
                native.Start().Close(ConnectionId(connection), code, now);
                native.CollectEvents(); // a close raises no verification
                return NativeStatus.Ok;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    // ---- identity and statistics -----------------------------------------------------------------------------

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_local_public_key")]
    public static int DatagramLocalPublicKey(nint handle, byte* publicKey) =>
        UseDatagram(handle, d => d.Start().LocalKey.Bytes.CopyTo(Boundary.KeyOut(publicKey, "public_key")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_max_payload_bytes")]
    public static nuint DatagramMaxPayloadBytes(nint handle) => QueryDatagram(handle, d => (nuint)d.Start().MaxPayloadSize, onError: _ => (nuint)0);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_max_datagram_bytes")]
    public static nuint DatagramMaxDatagramBytes(nint handle) => QueryDatagram(handle, d => (nuint)d.MaxDatagramSize, onError: _ => (nuint)0);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_max_early_data_bytes")]
    public static nuint DatagramMaxEarlyDataBytes(nint handle) => QueryDatagram(handle, d => (nuint)d.Start().MaxEarlyDataSize, onError: _ => (nuint)0);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_peer_public_key")]
    public static int DatagramPeerPublicKey(nint handle, ulong connection, byte* publicKey) =>
        UseDatagram(handle, d => PeerKey(d.Start(), ConnectionId(connection)).Bytes.CopyTo(Boundary.KeyOut(publicKey, "public_key")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_peer_fingerprint")]
    public static int DatagramPeerFingerprint(nint handle, ulong connection, byte* output, nuint capacity) =>
        UseDatagram(handle, d => Boundary.WriteText(PeerKey(d.Start(), ConnectionId(connection)).Fingerprint, output, capacity, "fingerprint buffer"));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_peer_address")]
    public static int DatagramPeerAddress(nint handle, ulong connection, byte* output, nuint capacity, nuint* written)
    {
        try
        {
            Boundary.Zero(written);
            Boundary.Require(written, "written");
            Span<byte> destination = Boundary.Out(output, capacity, "out");
            NativeDatagramEndpoint native = HandleTable.Get<NativeDatagramEndpoint>(handle);
            lock (native)
            {
                DatagramEndpoint endpoint = native.Start();
                DatagramHandle target = ConnectionId(connection);
                byte[] address = PendingAddress(endpoint, target) ?? Info(endpoint, target).Address;
                if (destination.Length < address.Length)
                {
                    throw new BoundaryException(NativeStatus.BufferTooSmall, $"The address needs {address.Length} bytes (OSSUARY_DGRAM_MAX_ADDRESS_BYTES always suffices).");
                }
                address.CopyTo(destination);
                *written = (nuint)address.Length;
                return NativeStatus.Ok;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_statistic")]
    public static int DatagramStatistic(nint handle, int which, ulong* value) => UseDatagram(handle, d =>
    {
        Boundary.Require(value, "value");
        *value = 0;
        *value = (ulong)Math.Max(0, DatagramCounters.Endpoint(d.Start().Statistics, which));
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_dropped")]
    public static int DatagramDropped(nint handle, int reason, ulong* value) => UseDatagram(handle, d =>
    {
        Boundary.Require(value, "value");
        *value = 0;
        if (!Enum.IsDefined((DatagramDropReason)reason))
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown drop reason {reason}.");
        }
        *value = (ulong)d.Start().Statistics.Dropped((DatagramDropReason)reason);
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_drop_reason_name")]
    public static byte* DatagramDropReasonName(int reason) => DatagramCounters.DropReasonName(reason);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_dgram_conn_statistic")]
    public static int DatagramConnectionStatistic(nint handle, ulong connection, int which, ulong* value) => UseDatagram(handle, d =>
    {
        Boundary.Require(value, "value");
        *value = 0;
        *value = DatagramCounters.Connection(Info(d.Start(), ConnectionId(connection)), which);
    });

    // ---- helpers ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Runs the library's own verifier on handshakes that wait for a verdict, outside the handle's lock (a C callback
    /// may take its time or call back into the library), then completes each under the lock. A handshake that ended
    /// meanwhile (expired, or the endpoint was freed) is skipped: its Closed event, if any, says so.
    /// </summary>
    private static void JudgeAndContinue(NativeDatagramEndpoint native, List<PendingVerdict>? toJudge, TimeSpan now)
    {
        while (toJudge is not null && native.Verifier is { } verifier)
        {
            var verdicts = new PeerVerdict[toJudge.Count];
            for (int i = 0; i < toJudge.Count; i++)
            {
                verdicts[i] = Judge(verifier, toJudge[i].Peer);
            }
            lock (native)
            {
                if (native.Started is not { } endpoint)
                {
                    return;
                }
                for (int i = 0; i < toJudge.Count; i++)
                {
                    try
                    {
                        endpoint.CompletePeerVerification(toJudge[i].Handle, verdicts[i], now);
                    }
                    catch (InvalidOperationException)
                    {
                        // No longer pending: the half-open entry expired while the verifier ran.
                    }
                    if (!verdicts[i].IsAccepted)
                    {
                        native.Rejected(toJudge[i].Handle);
                    }
                }
                toJudge = native.CollectEvents();
            }
        }
    }

    private static DatagramHandle ConnectionId(ulong connection) =>
        connection is 0 or > long.MaxValue
            ? throw new BoundaryException(NativeStatus.InvalidHandle, $"{connection} is not a connection of this endpoint.")
            : new DatagramHandle((long)connection);

    private static DatagramConnectionInfo Info(DatagramEndpoint endpoint, DatagramHandle connection)
    {
        try
        {
            return endpoint.GetInfo(connection);
        }
        catch (ArgumentException)
        {
            throw new BoundaryException(NativeStatus.InvalidHandle, $"No connection {connection.Value} on this endpoint (never made, or closed).");
        }
    }

    /// <summary>The identity awaiting a verdict on <paramref name="connection"/>, or null when none is pending.</summary>
    private static PeerIdentity? TryPendingPeer(DatagramEndpoint endpoint, DatagramHandle connection)
    {
        try
        {
            return endpoint.PeerToVerify(connection);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static PeerIdentity PendingPeer(DatagramEndpoint endpoint, DatagramHandle connection) =>
        TryPendingPeer(endpoint, connection) ?? throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"No verification is pending on connection {connection.Value} (it may have expired: a Closed event says so).");

    /// <summary>The key awaiting a verdict, else the connection's verified (or, for IK, pinned) key.</summary>
    private static OssuaryPublicKey PeerKey(DatagramEndpoint endpoint, DatagramHandle connection) =>
        TryPendingPeer(endpoint, connection)?.PublicKey
        ?? Info(endpoint, connection).PeerKey
        ?? throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The peer's key is known only once the handshake has authenticated it.");

    /// <summary>The address of a handshake awaiting a verdict (a responder's is not yet a connection), or null; the core names it in hex in the identity it puts to verifiers.</summary>
    private static byte[]? PendingAddress(DatagramEndpoint endpoint, DatagramHandle connection) =>
        TryPendingPeer(endpoint, connection) is { Endpoint: { } hex } ? Convert.FromHexString(hex) : null;

    private static bool Flag(int value, string name) =>
        value is 0 or 1 ? value == 1 : throw new BoundaryException(NativeStatus.InvalidArgument, $"{name} must be 0 or 1, not {value}.");

    private static int UseDatagram(nint handle, Action<NativeDatagramEndpoint> action) => UseHandle(handle, action);

    private static T QueryDatagram<T>(nint handle, Func<NativeDatagramEndpoint, T> query, Func<int, T> onError) => QueryHandle(handle, query, onError);
}
