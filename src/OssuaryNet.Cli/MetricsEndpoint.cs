using System.Net;
using System.Net.Sockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace OssuaryNet.Cli;

/// <summary>
/// The Prometheus scrape endpoint of `run`: the library's "OssuaryNet" meter (handshakes, connections, records,
/// bytes, verdicts, datagram drops) exported by OpenTelemetry over plain HTTP at /metrics. It carries counts and
/// fingerprint-free labels only, and no authentication: it listens where the configuration says, 127.0.0.1 unless
/// told otherwise.
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>The meter the library records into (OssuaryTelemetry.Name).</summary>
    private const string MeterName = "OssuaryNet";

    /// <summary>Starts listening; the returned provider stops it when disposed.</summary>
    /// <exception cref="IOException">The address cannot be listened on (exit code 2, as for a tunnel's address).</exception>
    public static MeterProvider Start(MetricsSettings settings)
    {
        IPEndPoint listen = settings.Listen;
        try
        {
            return Sdk.CreateMeterProviderBuilder()
                .ConfigureResource(resource => resource.AddService("ossuary"))
                .AddMeter(MeterName)
                .AddPrometheusHttpListener(options =>
                {
                    options.Host = listen.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{listen.Address}]" : listen.Address.ToString();
                    options.Port = listen.Port;
                    options.ScrapeEndpointPath = "/metrics";
                    options.ScrapeResponseCacheDurationMilliseconds = 0; // every scrape sees the counts of that moment
                })
                .Build();
        }
        catch (Exception e) when (e is HttpListenerException or InvalidOperationException or SocketException)
        {
            // HttpListener reports a port in use as its own exception type: one line naming the address instead.
            throw new IOException($"cannot serve metrics on {settings.Url}: {Innermost(e).Message}");
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
