using System.Net.Sockets;

namespace OssuaryNet.Streams;

/// <summary>
/// What a socket error means to the person who asked for the connection, in words: the operating system's own text
/// ("Connection refused") names neither the address nor what to do. Messages built here always name the address.
/// </summary>
internal static class SocketFailure
{
    /// <summary>"Cannot connect to ADDRESS: what it means." as an <see cref="IOException"/> wrapping <paramref name="error"/>.</summary>
    public static IOException Connecting(string address, SocketException error) =>
        new($"Cannot connect to {address}: {Meaning(error.SocketErrorCode, address, error.Message)}.", error);

    /// <summary>"Cannot listen on ADDRESS: what it means." as an <see cref="IOException"/> wrapping <paramref name="error"/>.</summary>
    public static IOException Listening(string address, SocketException error) =>
        new($"Cannot listen on {address}: {Meaning(error.SocketErrorCode, address, error.Message)}.", error);

    /// <summary>The meaning of <paramref name="code"/> for an operation on <paramref name="address"/> (HOST:PORT, or null when unknown), without a final period.</summary>
    public static string Meaning(SocketError code, string? address, string systemText) => code switch
    {
        SocketError.ConnectionRefused => "nothing is listening on that port (connection refused; is the server running, and is the port right?)",
        SocketError.HostNotFound or SocketError.NoData => $"{NameOf(address)} does not resolve (no such host)",
        SocketError.TryAgain => $"{NameOf(address)} could not be resolved now (the name server did not answer)",
        SocketError.TimedOut => "it did not answer (the connection timed out): the host may be down, or a firewall drops the packets",
        SocketError.NetworkUnreachable => "the network is unreachable from here (no route)",
        SocketError.HostUnreachable or SocketError.HostDown => "the host is unreachable (no route to it)",
        SocketError.AddressAlreadyInUse => "address already in use (another program listens on that port: choose another port, or stop it)",
        SocketError.AddressNotAvailable => "that address is not one of this machine's",
        SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
        SocketError.ConnectionReset => "the peer reset the connection",
        SocketError.ConnectionAborted or SocketError.Shutdown => "the connection was closed",
        _ => $"{systemText} ({code})",
    };

    private static string NameOf(string? address)
    {
        if (address is null)
        {
            return "the host name";
        }
        int colon = address.LastIndexOf(':');
        return $"the name {(colon > 0 ? address[..colon] : address).TrimStart('[').TrimEnd(']')}";
    }
}
