using System.Net;

namespace OssuaryNet.Cli;

/// <summary>
/// A `run` configuration file as read: the identity, the tunnels and the metrics endpoint. <see cref="Lines"/> maps
/// each dotted key to the line it was written on, for the mistakes found later in the files it names.
/// </summary>
/// <param name="KeyPath">The identity key file; null for the tool's default identity (created on first use).</param>
/// <param name="Metrics">Null when metrics are off (the default).</param>
internal sealed record RunConfiguration(string Path, string? KeyPath, IReadOnlyList<TunnelDefinition> Tunnels, MetricsSettings? Metrics, IReadOnlyDictionary<string, int> Lines)
{
    public int? LineOf(string key) => Lines.TryGetValue(key, out int line) ? line : null;
}

/// <summary>The Prometheus scrape endpoint: http://ADDRESS:PORT/metrics.</summary>
internal sealed record MetricsSettings(IPEndPoint Listen)
{
    /// <summary>Only this machine can scrape it unless the file says otherwise.</summary>
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 9464);

    public string Url => $"http://{(Listen.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Listen.Address}]" : Listen.Address.ToString())}:{Listen.Port}/metrics";
}
