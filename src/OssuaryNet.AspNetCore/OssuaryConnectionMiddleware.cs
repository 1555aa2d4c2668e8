using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace OssuaryNet.AspNetCore;

/// <summary>
/// Runs the server side of the handshake on each accepted connection, then hands the rest of Kestrel the plaintext
/// through pipes over the authenticated stream. A connection whose handshake or verification fails is closed before
/// any HTTP is read from it; the application never sees it. One whose first bytes are not OssuaryNet's (an HTTP
/// request, a TLS ClientHello) fails at those bytes, not at the handshake deadline (the core tells them apart).
/// </summary>
internal sealed partial class OssuaryConnectionMiddleware(ConnectionDelegate next, OssuaryServerOptions options, ILogger logger, OssuaryEndpointNotice notice)
{
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        notice.LogOnce(connection.LocalEndPoint); // a host without a lifetime (a bare KestrelServer) says it here
        var transport = connection.Transport;
        await using var stream = new OssuaryStream(new DuplexPipeStream(transport), leaveInnerStreamOpen: true);
        string? remote = connection.RemoteEndPoint?.ToString();
        try
        {
            // The stream's own deadline (OssuaryOptions.HandshakeTimeout) bounds the handshake and the verifier's answer.
            await stream.AuthenticateAsServerAsync(options, remote, connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (OssuaryException e)
        {
            LogHandshakeFailed(logger, connection.ConnectionId, remote, e.ErrorCode, e.Message);
            return;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            LogTransportEnded(logger, connection.ConnectionId, remote);
            return;
        }

        LogAuthenticated(logger, connection.ConnectionId, remote, stream.RemotePublicKey!.Fingerprint, stream.Pattern!.Value);
        connection.Features.Set<IOssuaryPeerFeature>(new OssuaryPeerFeature(stream));
        var pipe = new OssuaryDuplexPipe(stream, leaveStreamOpen: true);
        connection.Transport = pipe;
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            // Completing the pipes flushes the last response; a clean close follows unless the connection failed.
            await pipe.DisposeAsync().ConfigureAwait(false);
            if (stream.CanWrite)
            {
                try
                {
                    await stream.ShutdownAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // The client went away first: nothing left to close cleanly.
                }
            }
            connection.Transport = transport;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Connection {ConnectionId} from {Remote}: OssuaryNet handshake failed ({ErrorCode}): {Reason}")]
    private static partial void LogHandshakeFailed(ILogger logger, string connectionId, string? remote, OssuaryErrorCode errorCode, string reason);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} from {Remote} ended during the OssuaryNet handshake")]
    private static partial void LogTransportEnded(ILogger logger, string connectionId, string? remote);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId} from {Remote}: OssuaryNet peer {Fingerprint} authenticated with {Pattern}")]
    private static partial void LogAuthenticated(ILogger logger, string connectionId, string? remote, string fingerprint, OssuaryHandshakePattern pattern);
}
