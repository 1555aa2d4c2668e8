using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OssuaryNet.AspNetCore;

/// <summary>
/// The one line an OssuaryNet endpoint logs to say what it speaks. Kestrel lists it as "Now listening on:
/// http://...", which invites curl and browsers; they are refused at their first bytes, and this line says why.
/// It is logged once the host has started (the address then has its real port), or else at the first connection.
/// </summary>
internal sealed partial class OssuaryEndpointNotice
{
    private readonly ListenOptions _listenOptions;
    private readonly ILogger _logger;
    private int _logged;

    public OssuaryEndpointNotice(ListenOptions listenOptions, ILogger logger)
    {
        _listenOptions = listenOptions;
        _logger = logger;
        listenOptions.ApplicationServices.GetService<IHostApplicationLifetime>()?.ApplicationStarted.Register(() => LogOnce(null));
    }

    /// <summary>Logs the notice unless it has been logged; <paramref name="local"/> is a connection's address, if known.</summary>
    public void LogOnce(EndPoint? local)
    {
        if (Interlocked.Exchange(ref _logged, 1) == 0)
        {
            LogSpeaksOssuary(_logger, local ?? _listenOptions.EndPoint);
        }
    }

    [LoggerMessage(4, LogLevel.Information,
        "Endpoint {EndPoint} speaks OssuaryNet: every connection must begin an OssuaryNet handshake, so plain HTTP and TLS clients (curl, browsers) are refused at their first bytes; call it through OssuaryHttp.CreateHandler")]
    private static partial void LogSpeaksOssuary(ILogger logger, EndPoint endPoint);
}
