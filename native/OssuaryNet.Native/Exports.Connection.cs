using System.Runtime.InteropServices;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Native;

internal static unsafe partial class Exports
{
    private const int RoleClient = 0, RoleServer = 1;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_connection_new")]
    public static nint ConnectionNew(int role)
    {
        try
        {
            if (role is not (RoleClient or RoleServer))
            {
                throw new BoundaryException(NativeStatus.InvalidArgument, $"Role must be OSSUARY_ROLE_CLIENT (0) or OSSUARY_ROLE_SERVER (1), not {role}.");
            }
            return HandleTable.Add(new NativeConnection(isServer: role == RoleServer));
        }
        catch (Exception e)
        {
            LastError.From(e);
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_connection_free")]
    public static int ConnectionFree(nint handle) => Free<NativeConnection>(handle);

    /// <summary>Invalidates the handle, then wipes what it named under its lock (a call in flight on it finishes first). NULL is a no-op.</summary>
    private static int Free<T>(nint handle) where T : class, IDisposable
    {
        try
        {
            if (handle == 0)
            {
                return NativeStatus.Ok;
            }
            T target = HandleTable.Remove<T>(handle);
            lock (target)
            {
                target.Dispose();
            }
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_secret_key")]
    public static int SetSecretKey(nint handle, byte* secretKey) => Configure(handle, c => c.SetSecretKey(Boundary.Key(secretKey, "secret_key")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_server_key")]
    public static int SetServerKey(nint handle, byte* publicKey) => Configure(handle, c => c.SetServerKey(new OssuaryPublicKey(Boundary.Key(publicKey, "public_key"))));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_add_authorized_key")]
    public static int AddAuthorizedKey(nint handle, byte* publicKey) => Configure(handle, c => c.AddAuthorizedKey(new OssuaryPublicKey(Boundary.Key(publicKey, "public_key"))));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_add_authorized_keys")]
    public static int AddAuthorizedKeys(nint handle, byte* keys, nuint count) => Configure(handle, c =>
    {
        if (count > 65536)
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"{count} keys is more than the 65536 allowed in one call.");
        }
        ReadOnlySpan<byte> all = Boundary.In(keys, count * 32, "keys");
        for (int i = 0; i < (int)count; i++)
        {
            c.AddAuthorizedKey(new OssuaryPublicKey(all.Slice(i * 32, 32)));
        }
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_verify_callback")]
    public static int SetVerifyCallback(nint handle, nint callback, nint userData) => Configure(handle, c => c.SetCallback(callback, userData));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_known_hosts")]
    public static int SetKnownHosts(nint handle, byte* path, int tofuPolicy) => Configure(handle, c =>
    {
        TofuPolicy policy = tofuPolicy switch
        {
            0 => TofuPolicy.Accept,
            1 => TofuPolicy.Reject,
            _ => throw new BoundaryException(NativeStatus.InvalidArgument, "tofu_policy must be OSSUARY_TOFU_ACCEPT (0) or OSSUARY_TOFU_REJECT (1)."),
        };
        c.SetKnownHosts(Boundary.Path(path, "path"), policy);
    });

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_accept_any_peer")]
    public static int SetAcceptAnyPeer(nint handle) => Configure(handle, c => c.SetAcceptAny());

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_endpoint")]
    public static int SetEndpoint(nint handle, byte* endpoint) => Configure(handle, c => c.SetEndpoint(Boundary.Utf8(endpoint, "endpoint")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_application_context")]
    public static int SetApplicationContext(nint handle, byte* context) => Configure(handle, c => c.SetContext(Boundary.Utf8(context, "context")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_post_quantum")]
    public static int SetPostQuantum(nint handle, int policy) => Configure(handle, c => c.SetPostQuantum((OssuaryPostQuantum)policy));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_suite")]
    public static int SetSuite(nint handle, int suite) => Configure(handle, c => c.SetSuite((OssuarySuite)suite));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_handshake_send")]
    public static int HandshakeSend(nint handle, byte* output, nuint outputLength, nuint* written) => Drain(handle, output, outputLength, written);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_flush")]
    public static int Flush(nint handle, byte* output, nuint outputLength, nuint* written) => Drain(handle, output, outputLength, written);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_handshake_recv")]
    public static int HandshakeRecv(nint handle, byte* input, nuint inputLength, nuint* consumed)
    {
        try
        {
            Boundary.Zero(consumed);
            Boundary.Require(consumed, "consumed");
            ReadOnlySpan<byte> source = Boundary.In(input, inputLength, "input");
            NativeConnection native = HandleTable.Get<NativeConnection>(handle);
            PeerIdentity peer;
            PeerVerifier verifier;
            lock (native)
            {
                OssuaryConnection connection = native.Start();
                OssuaryStatus status = connection.Receive(source, Span<byte>.Empty, out int used, out _);
                *consumed = (nuint)used;
                if (status != OssuaryStatus.PeerVerificationRequired || connection.PeerVerifier is DeferredVerification)
                {
                    return HandshakeStatus(connection, status);
                }
                peer = connection.PeerToVerify!;
                verifier = connection.PeerVerifier;
            }
            // The convenience verifiers (callback, known hosts, authorized keys) run here, outside the handle's lock.
            PeerVerdict verdict = Judge(verifier, peer);
            lock (native)
            {
                OssuaryConnection connection = native.Start();
                connection.CompletePeerVerification(verdict);
                return HandshakeStatus(connection, OssuaryStatus.NeedMoreInput);
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_deferred_verification")]
    public static int SetDeferredVerification(nint handle) => Configure(handle, c => c.SetDeferred());

    [UnmanagedCallersOnly(EntryPoint = "ossuary_complete_verification")]
    public static int CompleteVerification(nint handle, int accept)
    {
        try
        {
            if (accept is not (0 or 1))
            {
                throw new BoundaryException(NativeStatus.InvalidArgument, $"accept must be 1 (trust the peer) or 0 (reject it), not {accept}.");
            }
            NativeConnection native = HandleTable.Get<NativeConnection>(handle);
            lock (native)
            {
                OssuaryConnection connection = native.Start();
                string who = connection.PeerToVerify is { } peer ? $" with fingerprint {peer.PublicKey.Fingerprint}" : "";
                connection.CompletePeerVerification(accept == 1 ? PeerVerdict.Accept() : PeerVerdict.Reject($"The application rejected the peer{who}."));
                return HandshakeStatus(connection, OssuaryStatus.NeedMoreInput);
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_handshake_timeout")]
    public static int SetHandshakeTimeout(nint handle, uint milliseconds) =>
        Configure(handle, c => c.SetHandshakeTimeout(milliseconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(milliseconds)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_set_start_time")]
    public static int SetStartTime(nint handle, ulong nowMilliseconds) =>
        Configure(handle, c => c.SetStartTime(Milliseconds(nowMilliseconds)));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_next_timeout")]
    public static int NextTimeout(nint handle, ulong* deadlineMilliseconds)
    {
        try
        {
            Boundary.Require(deadlineMilliseconds, "deadline_ms");
            *deadlineMilliseconds = 0;
            NativeConnection native = HandleTable.Get<NativeConnection>(handle);
            lock (native)
            {
                if (native.Start().NextTimeout is not { } deadline)
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

    [UnmanagedCallersOnly(EntryPoint = "ossuary_handle_timeout")]
    public static int HandleTimeout(nint handle, ulong nowMilliseconds) => Query(handle, native =>
    {
        OssuaryConnection connection = native.Start();
        return connection.HandleTimeout(Milliseconds(nowMilliseconds)) ? LastError.From(connection.Failure!) : NativeStatus.Ok;
    }, onError: status => status);

    private static TimeSpan Milliseconds(ulong milliseconds) =>
        milliseconds <= (ulong)TimeSpan.MaxValue.TotalMilliseconds / 2
            ? TimeSpan.FromMilliseconds(milliseconds)
            : throw new BoundaryException(NativeStatus.InvalidArgument, "A time in milliseconds is out of range.");

    /// <summary>What a handshake call reports: output to send first, the pause, more input, or done.</summary>
    private static int HandshakeStatus(OssuaryConnection connection, OssuaryStatus status)
    {
        if (connection.HasPendingOutput)
        {
            return NativeStatus.OutputPending;
        }
        // Once the handshake is over, records that came with it wait inside for ossuary_recv_data.
        return connection.State == OssuaryConnectionState.Handshaking ? NativeStatus.From(status) : NativeStatus.Ok;
    }

    private static PeerVerdict Judge(PeerVerifier verifier, PeerIdentity peer)
    {
        try
        {
            ValueTask<PeerVerdict> verdict = verifier.VerifyAsync(peer);
            return verdict.IsCompletedSuccessfully ? verdict.Result : verdict.AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            return PeerVerdict.VerifierFailed(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_handshake_done")]
    public static int HandshakeDone(nint handle) => Query(handle, native =>
    {
        OssuaryConnection connection = native.Start();
        return connection.State switch
        {
            OssuaryConnectionState.Failed => LastError.From(connection.Failure!),
            OssuaryConnectionState.Handshaking => 0,
            _ => connection.HasPendingOutput ? 0 : 1, // done once the last handshake message has been taken out
        };
    }, onError: status => status);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_send_data")]
    public static int SendData(nint handle, byte* input, nuint inputLength, nuint* consumed, byte* output, nuint outputLength, nuint* written) =>
        Transfer(handle, input, inputLength, consumed, output, outputLength, written,
            static (OssuaryConnection c, ReadOnlySpan<byte> source, Span<byte> destination, out int used, out int wrote) => c.Send(source, destination, out used, out wrote));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_recv_data")]
    public static int RecvData(nint handle, byte* input, nuint inputLength, nuint* consumed, byte* output, nuint outputLength, nuint* written) =>
        Transfer(handle, input, inputLength, consumed, output, outputLength, written,
            static (OssuaryConnection c, ReadOnlySpan<byte> source, Span<byte> destination, out int used, out int wrote) => c.Receive(source, destination, out used, out wrote));

    private delegate OssuaryStatus TransferOperation(OssuaryConnection connection, ReadOnlySpan<byte> source, Span<byte> destination, out int consumed, out int written);

    /// <summary>The shared body of send and receive: checks the arguments, runs the operation under the handle's lock, reports the counts.</summary>
    private static int Transfer(nint handle, byte* input, nuint inputLength, nuint* consumed, byte* output, nuint outputLength, nuint* written, TransferOperation operation)
    {
        try
        {
            Boundary.Zero(consumed);
            Boundary.Zero(written);
            Boundary.Require(consumed, "consumed");
            Boundary.Require(written, "written");
            ReadOnlySpan<byte> source = Boundary.In(input, inputLength, "input");
            Span<byte> destination = Boundary.Out(output, outputLength, "output");
            NativeConnection native = HandleTable.Get<NativeConnection>(handle);
            lock (native)
            {
                OssuaryConnection connection = native.Start();
                OssuaryStatus status = operation(connection, source, destination, out int used, out int wrote);
                *consumed = (nuint)used;
                *written = (nuint)wrote;
                return NativeStatus.From(status);
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_close")]
    public static int Close(nint handle) => Use(handle, c => c.Start().Close());

    [UnmanagedCallersOnly(EntryPoint = "ossuary_end_of_input")]
    public static int EndOfInput(nint handle) => Use(handle, c => c.Start().CompleteInput());

    [UnmanagedCallersOnly(EntryPoint = "ossuary_ping")]
    public static int Ping(nint handle, byte* data, nuint length) => Use(handle, c => c.Start().Ping(Boundary.In(data, length, "data")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_required_size")]
    public static nuint RequiredSize(nint handle) =>
        Query(handle, native => (nuint)(native.Started?.RequiredDestinationSize ?? 0), onError: _ => (nuint)0);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_connection_state")]
    public static int ConnectionState(nint handle) =>
        Query(handle, native => (int)(native.Started?.State ?? OssuaryConnectionState.Handshaking), onError: status => status);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_remote_public_key")]
    public static int RemotePublicKey(nint handle, byte* publicKey) =>
        Use(handle, c => RemoteKey(c).Bytes.CopyTo(Boundary.KeyOut(publicKey, "public_key")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_remote_fingerprint")]
    public static int RemoteFingerprint(nint handle, byte* output, nuint outputLength) =>
        Use(handle, c => Boundary.WriteText(RemoteKey(c).Fingerprint, output, outputLength, "fingerprint buffer"));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_local_public_key")]
    public static int LocalPublicKey(nint handle, byte* publicKey) =>
        Use(handle, c => c.Start().LocalPublicKey.Bytes.CopyTo(Boundary.KeyOut(publicKey, "public_key")));

    [UnmanagedCallersOnly(EntryPoint = "ossuary_handshake_hash")]
    public static int HandshakeHash(nint handle, byte* output, nuint outputLength, nuint* written)
    {
        try
        {
            Boundary.Zero(written);
            Boundary.Require(written, "written");
            Span<byte> destination = Boundary.Out(output, outputLength, "output");
            NativeConnection native = HandleTable.Get<NativeConnection>(handle);
            lock (native)
            {
                ReadOnlySpan<byte> hash = native.Started is { } started ? started.HandshakeHash : default;
                if (hash.IsEmpty)
                {
                    throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The handshake has not completed.");
                }
                if (destination.Length < hash.Length)
                {
                    throw new BoundaryException(NativeStatus.BufferTooSmall, $"The handshake hash needs {hash.Length} bytes.");
                }
                hash.CopyTo(destination);
                *written = (nuint)hash.Length;
                return NativeStatus.Ok;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    /// <summary>The verified key, or while the handshake waits for a verdict the key awaiting it.</summary>
    private static OssuaryPublicKey RemoteKey(NativeConnection connection) =>
        connection.Started?.RemotePublicKey ?? connection.Started?.PeerToVerify?.PublicKey ?? throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "The peer's key is known only once the handshake has authenticated it.");

    private static int Drain(nint handle, byte* output, nuint outputLength, nuint* written)
    {
        try
        {
            Boundary.Zero(written);
            Boundary.Require(written, "written");
            Span<byte> destination = Boundary.Out(output, outputLength, "output");
            NativeConnection native = HandleTable.Get<NativeConnection>(handle);
            lock (native)
            {
                OssuaryConnection connection = native.Start();
                if (!connection.HasPendingOutput && connection.Failure is { } failure)
                {
                    return LastError.From(failure);
                }
                OssuaryStatus status = connection.Send(default, destination, out _, out int wrote);
                *written = (nuint)wrote;
                return NativeStatus.From(status);
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    private static int Configure(nint handle, Action<NativeConnection> configure) => Use(handle, configure);

    private static T Query<T>(nint handle, Func<NativeConnection, T> query, Func<int, T> onError) => QueryHandle(handle, query, onError);

    private static int Use(nint handle, Action<NativeConnection> action) => UseHandle(handle, action);

    /// <summary>Like <see cref="UseHandle"/> for calls that return a value; <paramref name="onError"/> maps a failure's status to the value returned.</summary>
    private static TResult QueryHandle<THandle, TResult>(nint handle, Func<THandle, TResult> query, Func<int, TResult> onError) where THandle : class
    {
        try
        {
            THandle native = HandleTable.Get<THandle>(handle);
            lock (native)
            {
                return query(native);
            }
        }
        catch (Exception e)
        {
            return onError(LastError.From(e));
        }
    }

    /// <summary>Runs <paramref name="action"/> on the object a handle names, under its lock; every failure becomes a status.</summary>
    private static int UseHandle<THandle>(nint handle, Action<THandle> action) where THandle : class
    {
        try
        {
            THandle native = HandleTable.Get<THandle>(handle);
            lock (native)
            {
                action(native);
                return NativeStatus.Ok;
            }
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }
}
