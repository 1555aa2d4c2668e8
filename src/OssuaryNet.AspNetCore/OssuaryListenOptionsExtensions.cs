using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace OssuaryNet.AspNetCore;

/// <summary>Secures a Kestrel endpoint with OssuaryNet instead of TLS.</summary>
public static class OssuaryListenOptionsExtensions
{
    /// <summary>
    /// Runs an OssuaryNet handshake as the server on every connection this endpoint accepts, before HTTP, with the
    /// trust policy of <paramref name="options"/> (<see cref="OssuaryOptions.PeerVerifier"/>: authorized keys, known
    /// hosts, a callback; one is required). The verified client is readable from every request as
    /// <see cref="IOssuaryPeerFeature"/>. Use it instead of <c>UseHttps</c>, on an endpoint with
    /// <see cref="HttpProtocols.Http1"/> or <see cref="HttpProtocols.Http2"/> (HTTP/2 with prior knowledge: Kestrel
    /// chooses between the two only through TLS's ALPN, so an endpoint with both serves HTTP/1.1). A client whose first
    /// bytes are not an OssuaryNet handshake (plain HTTP, TLS) is closed at once, and the endpoint logs once, when the
    /// host has started, that it speaks OssuaryNet.
    /// </summary>
    /// <returns><paramref name="listenOptions"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The options are incomplete (no key pair or no verifier).</exception>
    public static ListenOptions UseOssuary(this ListenOptions listenOptions, OssuaryServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(); // a key pair and a verifier are required: a server must decide which clients it accepts
        ILogger logger = listenOptions.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger("OssuaryNet.AspNetCore")
            ?? NullLogger.Instance;
        var notice = new OssuaryEndpointNotice(listenOptions, logger);
        listenOptions.Use(next => new OssuaryConnectionMiddleware(next, options, logger, notice).OnConnectionAsync);
        return listenOptions;
    }
}
