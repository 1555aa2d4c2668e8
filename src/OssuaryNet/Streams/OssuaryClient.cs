using System.Net;
using System.Net.Sockets;
using OssuaryNet.Identity;
using OssuaryNet.Streams;
using OssuaryNet.Trust;

namespace OssuaryNet;

/// <summary>Connects to an OssuaryNet server over TCP and authenticates, in one call.</summary>
public static class OssuaryClient
{
    /// <summary>
    /// Opens a TCP connection to <paramref name="host"/>:<paramref name="port"/> and authenticates as the client.
    /// The endpoint name given to the peer verifier is "host:port" ("[host]:port" for IPv6 literals). When
    /// <see cref="OssuaryClientOptions.ServerKey"/> is not set and the verifier is a <see cref="KnownHosts"/> file that
    /// already records this endpoint, that key is pinned, so repeat connections use the one-round-trip IK handshake;
    /// if the server cannot prove it holds that key, the helper connects once more with XX so that the failure is
    /// reported as <see cref="OssuaryErrorCode.PeerKeyChanged"/> with both fingerprints.
    /// With <see cref="OssuaryPostQuantum.Preferred"/> (not the default, which is <see cref="OssuaryPostQuantum.Off"/>;
    /// the ossuary tool prefers it), a server that refuses the hybrid handshake gets a second connection with the
    /// classical one, but only when the verifier has no record of this server speaking the hybrid handshake (first
    /// contact); otherwise the helper fails with <see cref="OssuaryErrorCode.PostQuantumDowngrade"/>, since anyone on
    /// the path can forge that refusal. The options are checked before anything is sent.
    /// </summary>
    /// <returns>An authenticated stream that owns the socket.</returns>
    /// <exception cref="ArgumentException">Invalid options (no key pair, no verifier, an unknown suite...), at the call, before any connection.</exception>
    /// <exception cref="OssuaryException">Handshake or trust failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    /// <exception cref="IOException">The TCP connection could not be made: the message names the address and what went
    /// wrong (refused, no such host, unreachable), and the inner exception is the <see cref="SocketException"/>.</exception>
    public static Task<OssuaryStream> ConnectAsync(
        string host, int port, OssuaryClientOptions options, TimeSpan? handshakeTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        return ConnectAsync(new DnsEndPoint(host, port), options, handshakeTimeout, cancellationToken);
    }

    /// <summary>
    /// Connects to <paramref name="remote"/> and authenticates as the client: a <see cref="DnsEndPoint"/>, an
    /// <see cref="IPEndPoint"/> (IPv4 or IPv6) or a <see cref="UnixDomainSocketEndPoint"/>. Falls back and retries as
    /// <see cref="ConnectAsync(string, int, OssuaryClientOptions, TimeSpan?, CancellationToken)"/> does. The endpoint
    /// name given to the verifier is "host:port" ("[address]:port" for IPv6) or "unix:path".
    /// </summary>
    /// <returns>An authenticated stream that owns the socket.</returns>
    /// <exception cref="OssuaryException">Handshake or trust failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    /// <exception cref="IOException">The connection could not be made (the message names the address; the inner exception is the <see cref="SocketException"/>).</exception>
    /// <exception cref="ArgumentException">Invalid options, or an endpoint of another kind (a Unix socket needs a path): at the call, before any connection.</exception>
    public static Task<OssuaryStream> ConnectAsync(
        EndPoint remote, OssuaryClientOptions options, TimeSpan? handshakeTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(options);
        string endpoint = EndpointName(remote);
        options.ValidateForConnection(endpoint);
        return ConnectWithFallbackAsync(remote, endpoint, options, handshakeTimeout, cancellationToken);
    }

    private static async Task<OssuaryStream> ConnectWithFallbackAsync(
        EndPoint remote, string endpoint, OssuaryClientOptions options, TimeSpan? handshakeTimeout, CancellationToken cancellationToken)
    {
        try
        {
            return await ConnectVerifiedAsync(remote, endpoint, options, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.UnsupportedPattern && e.IsPeerAlert && options.PostQuantum == OssuaryPostQuantum.Preferred)
        {
            // The server refused the hybrid pattern: it is older, or configured without it, or someone on the path forged
            // the refusal (a clear alert is not authenticated). Fall back only where nothing says the server can do better.
            OssuaryPublicKey? key = options.ServerKey ?? options.PeerVerifier?.RecordedKeyFor(endpoint);
            if (options.PeerVerifier?.HasSpokenPostQuantum(endpoint, key) == true)
            {
                throw new OssuaryException(OssuaryErrorCode.PostQuantumDowngrade,
                    $"{endpoint} refused the post-quantum hybrid handshake, but it has spoken it before (the trust store records it): " +
                    "someone on the path may be stripping it. Connect with PostQuantum = Off only if the server really went back.");
            }
            OssuaryClientOptions classical = options.Clone();
            classical.PostQuantum = OssuaryPostQuantum.Off;
            return await ConnectVerifiedAsync(remote, endpoint, classical, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Authenticates as the client over a socket the caller has already connected (any stream socket: TCP, a Unix
    /// socket, a socket pair). The returned stream owns the socket, also when authentication fails. Unlike
    /// <see cref="ConnectAsync(EndPoint, OssuaryClientOptions, TimeSpan?, CancellationToken)"/> it cannot connect again,
    /// so it never falls back to a classical handshake and reports a changed key as
    /// <see cref="OssuaryErrorCode.AuthenticationFailed"/> when the key on record fails IK.
    /// </summary>
    /// <param name="connectedSocket">A connected stream socket; it is disposed with the stream.</param>
    /// <param name="options">Client settings.</param>
    /// <param name="serverName">The name given to the verifier ("host:port"); known hosts are keyed by it.</param>
    /// <param name="handshakeTimeout">Overrides <see cref="OssuaryOptions.HandshakeTimeout"/>.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <exception cref="OssuaryException">Handshake or trust failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    /// <exception cref="ArgumentException">The socket is not a connected stream socket, or the options are invalid
    /// (a <see cref="KnownHosts"/> verifier needs a server name): at the call, before anything is sent.</exception>
    public static Task<OssuaryStream> AuthenticateAsync(
        Socket connectedSocket, OssuaryClientOptions options, string? serverName = null, TimeSpan? handshakeTimeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectedSocket);
        ArgumentNullException.ThrowIfNull(options);
        if (connectedSocket.SocketType != SocketType.Stream || !connectedSocket.Connected)
        {
            throw new ArgumentException("The socket must be a connected stream socket.", nameof(connectedSocket));
        }
        serverName ??= connectedSocket.RemoteEndPoint is { } remote ? EndpointName(remote) : null;
        options.ValidateForConnection(serverName);
        return AuthenticateOverAsync(connectedSocket, serverName, options, handshakeTimeout, cancellationToken);
    }

    /// <summary>The name the verifier sees for an endpoint, and known hosts record.</summary>
    internal static string EndpointName(EndPoint remote) => remote switch
    {
        DnsEndPoint dns => dns.Host.Contains(':') ? $"[{dns.Host}]:{dns.Port}" : $"{dns.Host}:{dns.Port}",
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip => $"[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        UnixDomainSocketEndPoint unix => $"unix:{unix}",
        _ => throw new ArgumentException($"Cannot connect to a {remote.GetType().Name}: use a DnsEndPoint, an IPEndPoint or a UnixDomainSocketEndPoint.", nameof(remote)),
    };

    private static async Task<OssuaryStream> ConnectVerifiedAsync(
        EndPoint remote, string endpoint, OssuaryClientOptions options, TimeSpan? handshakeTimeout, CancellationToken cancellationToken)
    {
        try
        {
            // A key the verifier has on record for the endpoint (known hosts) makes this IK: the core decides that.
            return await ConnectOnceAsync(remote, endpoint, options, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.AuthenticationFailed && options.ServerKey is null
                                          && options.PeerVerifier?.RecordedKeyFor(endpoint) is not null)
        {
            // The server could not prove it holds the key recorded in known hosts. Connect once more with XX to learn
            // the key it does hold: the known-hosts verifier then refuses it with PeerKeyChanged, naming both
            // fingerprints. This is no downgrade: the XX handshake is judged by the same verifier.
            OssuaryClientOptions learn = options.Clone();
            learn.UseRecordedServerKey = false;
            return await ConnectOnceAsync(remote, endpoint, learn, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<OssuaryStream> ConnectOnceAsync(
        EndPoint remote, string endpoint, OssuaryClientOptions options, TimeSpan? handshakeTimeout, CancellationToken cancellationToken)
    {
        Socket socket = remote is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw SocketFailure.Connecting(endpoint, e); // README promises an IOException, as every stream failure is
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return await AuthenticateOverAsync(socket, endpoint, options, handshakeTimeout, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<OssuaryStream> AuthenticateOverAsync(
        Socket socket, string? endpoint, OssuaryClientOptions options, TimeSpan? handshakeTimeout, CancellationToken cancellationToken)
    {
        OssuaryStream? stream = null;
        try
        {
            stream = new OssuaryStream(new NetworkStream(socket, ownsSocket: true));
            if (handshakeTimeout is { } timeout)
            {
                stream.HandshakeTimeout = timeout;
            }
            await stream.AuthenticateAsClientAsync(options, endpoint, cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
            socket.Dispose();
            throw;
        }
    }
}
