using System.Net;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>Parsing of HOST:PORT and [IPv6]:PORT arguments.</summary>
internal static class Endpoints
{
    public static (string Host, int Port) Parse(string text, bool allowAnyPort = false)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out int port) || port < (allowAnyPort ? 0 : 1) || port > 65535)
        {
            throw new UsageException($"'{text}' is not HOST:PORT (e.g. example.com:7000 or [::1]:7000).");
        }
        string host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        return (host, port);
    }

    /// <summary>The first address of <paramref name="host"/> with <paramref name="port"/>, for the verbs that send datagrams to a name.</summary>
    public static async Task<IPEndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        return addresses.Length > 0
            ? new IPEndPoint(addresses[0], port)
            : throw new UsageException($"'{PrintableText.Escape(host)}' has no address.");
    }

    public static IPEndPoint ParseLocal(string text)
    {
        if (int.TryParse(text, out int bare))
        {
            return new IPEndPoint(IPAddress.Any, CheckPort(bare));
        }
        (string host, int port) = Parse(text, allowAnyPort: true);
        if (host is "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }
        return IPAddress.TryParse(host, out IPAddress? address)
            ? new IPEndPoint(address, port)
            : throw new UsageException($"'{host}' is not an IP address to listen on.");
    }

    /// <summary>The address of a --bind option: an IP address or "localhost".</summary>
    public static IPAddress ParseBind(string text) =>
        text is "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(text, out IPAddress? address) ? address
        : throw new UsageException($"--bind takes an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1 or ::), not '{PrintableText.Escape(text)}'.");

    public static int CheckPort(int port) =>
        port is >= 0 and <= 65535 ? port : throw new UsageException($"{port} is not a TCP port.");

    /// <summary>Binds a plain UDP socket to <paramref name="local"/>, a port in use said as the TCP verbs say it.</summary>
    public static void BindUdp(System.Net.Sockets.Socket socket, IPEndPoint local)
    {
        try
        {
            socket.Bind(local);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw OssuaryNet.Streams.SocketFailure.Listening(local.ToString(), e);
        }
    }

    /// <summary>Binds a secure UDP endpoint to <paramref name="local"/>, a port in use said as the TCP verbs say it.</summary>
    public static OssuaryNet.Datagram.OssuaryUdpEndpoint BindSecureUdp(IPEndPoint local, OssuaryNet.Datagram.DatagramOptions options, OssuaryNet.Trust.PeerVerifier? verifier)
    {
        try
        {
            return OssuaryNet.Datagram.OssuaryUdpEndpoint.Bind(local, options, verifier);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw OssuaryNet.Streams.SocketFailure.Listening(local.ToString(), e);
        }
    }
}
