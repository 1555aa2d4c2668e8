using System.Net;

namespace OssuaryNet.Tests.Datagram.Simulation;

/// <summary>Addresses in the form the UDP wrapper hands the endpoint (native socket addresses), for tests of per-source limits.</summary>
internal static class SocketAddresses
{
    public static byte[] Of(string ip, int port)
    {
        SocketAddress address = new IPEndPoint(IPAddress.Parse(ip), port).Serialize();
        return address.Buffer.Span[..address.Size].ToArray();
    }
}
