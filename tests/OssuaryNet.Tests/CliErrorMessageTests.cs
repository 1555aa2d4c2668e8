using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// Errors that used to name nothing, or the wrong thing, run on the real tool: each is one line that names the
/// address or the file and says what it means for the user.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliErrorMessageTests : CliHomes
{
    /// <summary>The one error line (the last line, starting "ossuary: "), checked to carry no .NET type or stack trace.</summary>
    private static string ErrorLine(string stderr)
    {
        string[] lines = stderr.Trim().Split('\n');
        string error = Assert.Single(lines, line => line.StartsWith("ossuary: ", StringComparison.Ordinal));
        Assert.Equal(lines[^1], error);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        return error;
    }

    private static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>A TCP server on loopback that serves each connection with <paramref name="serve"/>: another protocol.</summary>
    private sealed class ForeignServer : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public ForeignServer(Func<Socket, Task> serve)
        {
            _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _socket.Listen();
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        Socket client = await _socket.AcceptAsync();
                        _ = Task.Run(async () =>
                        {
                            using (client)
                            {
                                try
                                {
                                    await serve(client);
                                    client.Shutdown(SocketShutdown.Both);
                                }
                                catch (SocketException)
                                {
                                }
                            }
                        });
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            });
        }

        public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

        public void Dispose() => _socket.Dispose();
    }

    /// <summary>Reads what the client sent first, then answers <paramref name="answer"/> and closes, as a server of another protocol does.</summary>
    private static Func<Socket, Task> ReadThenAnswer(byte[] answer) => async client =>
    {
        await client.ReceiveAsync(new byte[4096]);
        await client.SendAsync(answer);
    };

    [Fact]
    public async Task AClosedPortNamesTheAddressAndSaysNothingListens()
    {
        int port = ClosedPort();
        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--tofu", "accept");
        Assert.Equal(2, code);
        string error = ErrorLine(stderr);
        Assert.Contains($"Cannot connect to 127.0.0.1:{port}: nothing is listening on that port", error);
    }

    [Fact]
    public async Task ANameThatDoesNotResolveIsNamed()
    {
        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", "no-such-host.invalid:7000", "--tofu", "accept");
        Assert.Equal(2, code);
        Assert.Contains("Cannot connect to no-such-host.invalid:7000: the name no-such-host.invalid does not resolve", ErrorLine(stderr));
    }

    [Theory]
    [InlineData("listen")]
    [InlineData("serve")]
    [InlineData("forward")]
    public async Task APortInUseNamesTheAddressAndSaysAnotherProgramHasIt(string verb)
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        string address = $"127.0.0.1:{((IPEndPoint)taken.LocalEndPoint!).Port}";
        string[] arguments = verb switch
        {
            "listen" => ["listen", address.Split(':')[1], "--bind", "127.0.0.1"],
            "serve" => ["serve", "--listen", address, "--to", "127.0.0.1:9", "--accept-any"],
            _ => ["forward", "--listen", address, "--to", "127.0.0.1:9"],
        };
        var (code, _, stderr) = await CliProcess.Run(Home, [], arguments);
        Assert.Equal(2, code);
        Assert.Contains($"Cannot listen on {address}: address already in use (another program listens on that port", ErrorLine(stderr));
    }

    private string LargeSparseFile()
    {
        string source = Path.Combine(OtherHome, "big.bin");
        using FileStream file = File.Create(source);
        file.SetLength(4L << 30); // sparse: cheap to create, long enough to interrupt
        return source;
    }
}
