using System.Net;
using System.Net.Sockets;

namespace OssuaryNet;

/// <summary>
/// Binds a socket that will listen so that a restarted server can take its port back at once, but a second server
/// cannot share it. .NET's <see cref="SocketOptionName.ReuseAddress"/> sets SO_REUSEPORT as well on Linux and macOS,
/// which lets two processes bind the same port and split its clients between them; the C option SO_REUSEADDR alone
/// only allows rebinding while old connections linger in TIME_WAIT.
/// </summary>
internal static class ListeningSocket
{
    private const int LinuxSolSocket = 1, LinuxSoReuseAddr = 2, BsdSolSocket = 0xffff, BsdSoReuseAddr = 4;

    public static void Bind(Socket socket, EndPoint localEndpoint)
    {
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(LinuxSolSocket, LinuxSoReuseAddr, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(BsdSolSocket, BsdSoReuseAddr, BitConverter.GetBytes(1));
        }
        else if (OperatingSystem.IsWindows())
        {
            socket.ExclusiveAddressUse = true; // Windows lets a rebinding socket steal the port unless it is exclusive
        }
        socket.Bind(localEndpoint);
    }
}
