using System.Net.Http;

namespace OssuaryNet;

/// <summary>
/// <see cref="HttpClient"/> over OssuaryNet: every connection the handler opens is an authenticated
/// <see cref="OssuaryStream"/> made by <see cref="OssuaryClient.ConnectAsync(System.Net.EndPoint, OssuaryClientOptions, TimeSpan?, CancellationToken)"/>,
/// so known hosts, pinned keys, IK and the post-quantum policy behave as they do there.
/// </summary>
/// <remarks>
/// Request <c>http://</c> URIs: the channel is OssuaryNet's, not TLS, so HTTP itself runs in cleartext inside it. HTTP/1.1
/// works as is; for HTTP/2 set <see cref="HttpRequestMessage.Version"/> (or <see cref="HttpClient.DefaultRequestVersion"/>)
/// to 2.0 with <see cref="HttpVersionPolicy.RequestVersionExact"/> (HTTP/2 with prior knowledge), against a server endpoint
/// that speaks HTTP/2 only. A gRPC channel takes the same handler (<c>GrpcChannelOptions.HttpHandler</c>).
/// Proxies are bypassed: a proxy would end the channel.
/// </remarks>
public static class OssuaryHttp
{
    /// <summary>A new <see cref="SocketsHttpHandler"/> whose connections are OssuaryNet channels.</summary>
    /// <param name="options">Client settings used for every connection (the verifier sees "host:port" of each request's URI).</param>
    /// <param name="handshakeTimeout">Overrides <see cref="OssuaryOptions.HandshakeTimeout"/>.</param>
    public static SocketsHttpHandler CreateHandler(OssuaryClientOptions options, TimeSpan? handshakeTimeout = null)
    {
        var handler = new SocketsHttpHandler();
        UseOssuary(handler, options, handshakeTimeout);
        return handler;
    }

    /// <summary>Makes an existing <see cref="SocketsHttpHandler"/> open OssuaryNet channels instead of plain sockets.</summary>
    /// <exception cref="InvalidOperationException">The handler already has a connect callback of its own.</exception>
    public static void UseOssuary(this SocketsHttpHandler handler, OssuaryClientOptions options, TimeSpan? handshakeTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (handler.ConnectCallback is not null)
        {
            throw new InvalidOperationException("The handler already has a ConnectCallback; OssuaryNet would replace it.");
        }
        handler.UseProxy = false;
        handler.ConnectCallback = ConnectCallback(options, handshakeTimeout);
    }

    /// <summary>
    /// The connect callback itself, for handlers configured elsewhere: it connects to the request's host and port and
    /// returns the authenticated stream.
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(
        OssuaryClientOptions options, TimeSpan? handshakeTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return async (context, cancellationToken) =>
            await OssuaryClient.ConnectAsync(context.DnsEndPoint, options, handshakeTimeout, cancellationToken).ConfigureAwait(false);
    }
}
