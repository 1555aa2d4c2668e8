using System.Net;
using System.Net.Sockets;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>A listener's port: never shared with a second server, yet free again at once after a restart.</summary>
public sealed class ListenerBindingTests
{
    [Fact]
    public async Task ASecondListenerOnAPortInUseIsRefused()
    {
        await using OssuaryListener first = Loopback.Listen();
        var error = Assert.Throws<SocketException>(() => new OssuaryListener(new IPEndPoint(IPAddress.Loopback, first.LocalEndpoint.Port), Loopback.ServerOptions()));
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
    }

    [Fact]
    public async Task ARestartedListenerTakesItsPortBackWhileOldConnectionsLinger()
    {
        int port;
        await using (OssuaryListener first = Loopback.Listen())
        {
            port = first.LocalEndpoint.Port;
            // A connection the server side closes first leaves the server's end in TIME_WAIT on this port.
            Task<OssuaryStream> accepted = first.AcceptAsync().AsTask();
            await using OssuaryStream client = await Loopback.Connect(first);
            await using (await accepted.WaitAsync(Loopback.Guard))
            {
            }
            // Disposing sends no close, so the client sees the cut: what matters is that the server's side went first.
            var cut = await Assert.ThrowsAsync<OssuaryException>(() => Loopback.ReadToEnd(client).WaitAsync(Loopback.Guard));
            Assert.Equal(OssuaryErrorCode.Truncated, cut.ErrorCode);
        }
        await using var again = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, port), Loopback.ServerOptions());
        again.Start();
        Assert.Equal(port, again.LocalEndpoint.Port);
    }
}
