using Microsoft.AspNetCore.Http;

namespace OssuaryNet.AspNetCore;

/// <summary>Reads the OssuaryNet peer of a request.</summary>
public static class OssuaryHttpContextExtensions
{
    /// <summary>
    /// The verified peer of the connection that carried this request, or null when the request did not arrive through
    /// an endpoint with <see cref="OssuaryListenOptionsExtensions.UseOssuary(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions, OssuaryServerOptions)"/>.
    /// </summary>
    public static IOssuaryPeerFeature? GetOssuaryPeer(this HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IOssuaryPeerFeature>();
    }
}
