namespace OssuaryNet.Datagram;

/// <summary>
/// Maps an address to the source that per-source limits count it under (<see cref="DatagramAddressFormat"/>): one host
/// that sends from many ports, or from many addresses of one IPv6 prefix, is one source with one budget.
/// </summary>
/// <remarks>
/// A socket address has the same layout wherever .NET runs for the bytes read here: <c>sockaddr_in</c> is 16 bytes
/// with the IPv4 address at offset 4, <c>sockaddr_in6</c> 28 bytes with the IPv6 address at offset 8 (the family and
/// port fields before them differ between systems and are not read). A source is written as a family tag byte (4 or
/// 6) followed by the address bytes kept, so an IPv4 source never equals an IPv6 one.
/// </remarks>
internal sealed class SourceGrouping
{
    private const int Ipv4Size = 16, Ipv4Offset = 4, Ipv6Size = 28, Ipv6Offset = 8;
    private static ReadOnlySpan<byte> MappedPrefix => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF];

    private readonly DatagramAddressFormat _format;
    private readonly int _ipv6PrefixBits;

    public SourceGrouping(DatagramAddressFormat format, int ipv6PrefixBits)
    {
        _format = format;
        _ipv6PrefixBits = ipv6PrefixBits;
    }

    public DatagramAddress SourceOf(in DatagramAddress address)
    {
        ReadOnlySpan<byte> bytes = address.Bytes;
        if (_format == DatagramAddressFormat.Opaque)
        {
            return address;
        }
        Span<byte> source = stackalloc byte[17];
        if (bytes.Length == Ipv4Size)
        {
            source[0] = 4;
            bytes.Slice(Ipv4Offset, 4).CopyTo(source[1..]);
            return DatagramAddress.From(source[..5]);
        }
        if (bytes.Length != Ipv6Size)
        {
            return address;
        }
        ReadOnlySpan<byte> ip = bytes.Slice(Ipv6Offset, 16);
        if (ip.StartsWith(MappedPrefix))
        {
            source[0] = 4;
            ip[12..].CopyTo(source[1..]);
            return DatagramAddress.From(source[..5]);
        }
        source[0] = 6;
        int whole = _ipv6PrefixBits / 8, rest = _ipv6PrefixBits % 8;
        ip[..whole].CopyTo(source[1..]);
        int length = 1 + whole;
        if (rest != 0)
        {
            source[length++] = (byte)(ip[whole] & (0xFF << (8 - rest)));
        }
        return DatagramAddress.From(source[..length]);
    }
}
