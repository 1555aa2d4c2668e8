namespace OssuaryNet.Datagram;

/// <summary>
/// What the endpoint may read in an address, to group addresses into the sources its per-source limits count
/// (half-open handshakes, rate buckets, connections). Routing never depends on it: connections are found by session id.
/// </summary>
public enum DatagramAddressFormat
{
    /// <summary>Addresses are opaque: each one is its own source (radio ids, relay paths, tests).</summary>
    Opaque = 0,
    /// <summary>
    /// Addresses are native socket addresses (a <c>SocketAddress</c> buffer: 16 bytes for IPv4, 28 for IPv6). The
    /// source is the IP address without the port: an IPv4 address (an IPv4-mapped IPv6 one included), or an IPv6
    /// address cut to <see cref="DatagramOptions.Ipv6SourcePrefixLength"/> bits. Any other length is its own source.
    /// </summary>
    SocketAddress = 1,
}
