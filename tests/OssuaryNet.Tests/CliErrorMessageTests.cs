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

    [Theory]
    [InlineData("http-status", "answered with HTTP: it is a web server, not an OssuaryNet server")]
    [InlineData("http-html", "answered with HTTP: it is a web server, not an OssuaryNet server")]
    [InlineData("ssh", "answered with SSH: it is an SSH server, not an OssuaryNet server")]
    [InlineData("tls", "answered with TLS: it is a TLS server")]
    public async Task AServerOfAnotherProtocolIsNamedForWhatItIs(string kind, string expected)
    {
        using var server = new ForeignServer(kind switch
        {
            "http-status" => ReadThenAnswer("HTTP/1.0 400 Bad Request\r\nContent-Type: text/html\r\n\r\n<html>Bad request</html>"u8.ToArray()),
            // Python's http.server answers what it takes for an HTTP/0.9 request with the bare HTML of its error page.
            "http-html" => ReadThenAnswer("<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">"u8.ToArray()),
            "ssh" => async client => await client.SendAsync("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"u8.ToArray()), // an SSH server speaks first
            _ => ReadThenAnswer([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]), // a TLS alert: decode_error
        });
        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{server.Port}", "--tofu", "accept");
        Assert.Equal(3, code);
        string error = ErrorLine(stderr);
        Assert.Contains($"127.0.0.1:{server.Port} {expected}", error);
        Assert.DoesNotContain("Truncated", error);
    }

    [Fact]
    public async Task AWrongPinnedKeyIsRefusedNamingBothFingerprintsAsAWrongFingerprintIs()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        string serverFingerprint = await listen.WaitForStderr(@"listening on \S+, fingerprint (\S+)");

        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--peer", TestKeys.Other.PublicKey.ToString());
        Assert.Equal(4, code); // as for --peer FINGERPRINT: the peer is not trusted
        string error = ErrorLine(stderr);
        Assert.Contains($"The server's fingerprint is {serverFingerprint}, not {TestKeys.Other.PublicKey.Fingerprint} (the key given with --peer)", error);
        Assert.DoesNotContain("AuthenticationFailed", error);
    }

    [Fact]
    public async Task PostQuantumRequiredAgainstAClassicalServerSaysPostQuantum()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1", "--pq", "off");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--pq", "required", "--tofu", "accept");
        Assert.Equal(3, code);
        string error = ErrorLine(stderr);
        Assert.Contains($"127.0.0.1:{port} refused the post-quantum hybrid handshake (XXhfs)", error);
        Assert.Contains("--pq required", error);
    }

    [Fact]
    public async Task TheDowngradeWarningGivesTheToolsRemedyNotTheLibrarysOption()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1", "--pq", "off");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        var (_, idOut, _) = await CliProcess.Run(Home, null, "id");
        string serverKey = Regex.Match(System.Text.Encoding.UTF8.GetString(idOut), @"public key +(\S+)").Groups[1].Value;
        string knownHosts = Path.Combine(OtherHome, ".config", "ossuary", "known_hosts");
        Directory.CreateDirectory(Path.GetDirectoryName(knownHosts)!);
        await File.WriteAllTextAsync(knownHosts, $"127.0.0.1:{port} {serverKey} pq\n"); // it spoke the hybrid handshake before

        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}");
        Assert.Equal(5, code);
        Assert.Contains("POST-QUANTUM PROTECTION WAS STRIPPED", stderr);
        string error = ErrorLine(stderr);
        Assert.Contains($"remove \"pq\" from its entry in {knownHosts}", error);
        Assert.DoesNotContain("PostQuantum = Off", stderr);
    }

    [Fact]
    public async Task SendingADirectorySaysItIsOne()
    {
        string directory = Path.Combine(OtherHome, "photos");
        Directory.CreateDirectory(directory);
        var (code, _, stderr) = await CliProcess.Run(OtherHome, null, "send", directory, "127.0.0.1:9");
        Assert.Equal(1, code);
        Assert.Contains($"'{directory}' is a directory: send takes one file", ErrorLine(stderr));
    }

    [Fact]
    public async Task ATunnelWhoseServiceIsDownSaysTheServerCouldNotReachItNotTruncated()
    {
        int deadService = ClosedPort();
        await using CliProcess serve = CliProcess.Start(Home, "serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{deadService}", "--accept-any");
        string servePort = await serve.WaitForStderr(@"serving 127\.0\.0\.1:(\d+)");
        await using CliProcess forward = CliProcess.Start(OtherHome, "forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{servePort}", "--tofu", "accept");
        int forwardPort = int.Parse(await forward.WaitForStderr(@"forwarding 127\.0\.0\.1:(\d+)"), System.Globalization.CultureInfo.InvariantCulture);

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, forwardPort);
        await client.SendAsync("SELECT 1"u8.ToArray());
        Assert.Equal(0, await client.ReceiveAsync(new byte[16]).WaitAsync(Loopback.Guard)); // closed, nothing delivered

        string note = await forward.WaitForStderr(@"(connection from 127\.0\.0\.1:\d+: .*)");
        Assert.Contains($"The server 127.0.0.1:{servePort} could not reach its service", note);
        Assert.DoesNotContain("Truncated", forward.Stderr);
        await serve.WaitForStderr($@"(Cannot reach the service 127\.0\.0\.1:{deadService}: nothing is listening on that port)");
    }

    private string LargeSparseFile()
    {
        string source = Path.Combine(OtherHome, "big.bin");
        using FileStream file = File.Create(source);
        file.SetLength(4L << 30); // sparse: cheap to create, long enough to interrupt
        return source;
    }

    [Fact]
    public async Task AReceiverStoppedMidTransferSaysTheFileWasNotStoredAndTheSenderThatItWasNotDelivered()
    {
        string inbox = Path.Combine(Home, "inbox");
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        await using CliProcess send = CliProcess.Start(OtherHome, "send", LargeSparseFile(), $"127.0.0.1:{port}", "--tofu", "accept");
        await receive.WaitForStderr(@"(receiving big\.bin: \d+%)");
        receive.Terminate();

        Assert.Equal(130, await receive.WaitForExit());
        Assert.Matches(@"^ossuary: interrupted at \d+ % \([\d.]+ of 4\.3 GB\): big\.bin was not stored\.$", ErrorLine(receive.Stderr));
        Assert.Equal(7, await send.WaitForExit());
        Assert.Matches($@"^ossuary: 127\.0\.0\.1:{port} closed the connection at \d+ % \([\d.]+ of 4\.3 GB\): the file was not delivered\.$", ErrorLine(send.Stderr));
        Assert.DoesNotContain("Broken pipe", send.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(inbox));
    }

    [Fact]
    public async Task ASenderThatVanishesMidTransferIsNamedAndTheFileWasNotStored()
    {
        string inbox = Path.Combine(Home, "inbox");
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        await using CliProcess send = CliProcess.Start(OtherHome, "send", LargeSparseFile(), $"127.0.0.1:{port}", "--tofu", "accept");
        await receive.WaitForStderr(@"(receiving big\.bin: \d+%)");
        send.Kill(); // no close, no goodbye: as a machine that loses power

        Assert.Equal(3, await receive.WaitForExit()); // still a truncation: the stream ended without the sender's close
        Assert.Matches(@"^ossuary: The connection from the sender \([a-z2-7-]+\) ended at \d+ % \([\d.]+ of 4\.3 GB\): big\.bin was not stored\. \(Truncated\)$", ErrorLine(receive.Stderr));
        Assert.Empty(Directory.GetFileSystemEntries(inbox));
    }
}
