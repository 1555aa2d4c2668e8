using System.Net.Sockets;
using OssuaryNet.Identity;
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
    /// With <see cref="OssuaryPostQuantum.Preferred"/> (the default), a server that refuses the hybrid handshake gets
    /// a second connection with the classical one, but only when the verifier has no record of this server speaking
    /// the hybrid handshake (first contact); otherwise the helper fails with
    /// <see cref="OssuaryErrorCode.PostQuantumDowngrade"/>, since anyone on the path can forge that refusal.
    /// </summary>
    /// <returns>An authenticated stream that owns the socket.</returns>
    /// <exception cref="OssuaryException">Handshake or trust failure, or <see cref="OssuaryErrorCode.HandshakeTimeout"/>.</exception>
    /// <exception cref="SocketException">The TCP connection could not be made.</exception>
    public static async Task<OssuaryStream> ConnectAsync(
        string host, int port, OssuaryClientOptions options, TimeSpan? handshakeTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(options);
        string endpoint = host.Contains(':') ? $"[{host}]:{port}" : $"{host}:{port}";
        try
        {
            return await ConnectVerifiedAsync(host, port, endpoint, options, handshakeTimeout, cancellationToken).ConfigureAwait(false);
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
            return await ConnectVerifiedAsync(host, port, endpoint, classical, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<OssuaryStream> ConnectVerifiedAsync(
        string host, int port, string endpoint, OssuaryClientOptions options, TimeSpan? handshakeTimeout, CancellationToken cancellationToken)
    {
        try
        {
            // A key the verifier has on record for the endpoint (known hosts) makes this IK: the core decides that.
            return await ConnectOnceAsync(host, port, endpoint, options, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OssuaryException e) when (e.ErrorCode == OssuaryErrorCode.AuthenticationFailed && options.ServerKey is null
                                          && options.PeerVerifier?.RecordedKeyFor(endpoint) is not null)
        {
            // The server could not prove it holds the key recorded in known hosts. Connect once more with XX to learn
            // the key it does hold: the known-hosts verifier then refuses it with PeerKeyChanged, naming both
            // fingerprints. This is no downgrade: the XX handshake is judged by the same verifier.
            OssuaryClientOptions learn = options.Clone();
            learn.UseRecordedServerKey = false;
            return await ConnectOnceAsync(host, port, endpoint, learn, handshakeTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<OssuaryStream> ConnectOnceAsync(
        string host, int port, string endpoint, OssuaryClientOptions options, TimeSpan? handshakeTimeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        OssuaryStream? stream = null;
        try
        {
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
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
