using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// Servers that would fail quietly, run as separate processes: a trust file that cannot serve anyone (or serves
/// whoever can write it) stops the verb at start with exit code 6, and every refused client is one line on stderr.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliServerTrustTests : CliHomes
{
    private static string[] ServingVerb(string verb, string authorizedKeys) => verb switch
    {
        "receive" => ["receive", "0", "--bind", "127.0.0.1", "--authorized-keys", authorizedKeys],
        "serve" => ["serve", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9", "--authorized-keys", authorizedKeys],
        "udp-serve" => ["udp-serve", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9", "--authorized-keys", authorizedKeys],
        _ => throw new ArgumentOutOfRangeException(nameof(verb)),
    };

    /// <summary>Runs the tool and expects it to exit by itself within a few seconds (a server that starts never does).</summary>
    private async Task<(int Code, string Stderr)> RunExpectingExit(string[] arguments)
    {
        await using CliProcess process = CliProcess.Start(Home, arguments);
        await process.CloseInput();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.True(process.HasExited, $"`{string.Join(' ', arguments)}` went on serving:\n{process.Stderr}");
        return (await process.WaitForExit(), process.Stderr);
    }

    private static string ErrorLine(string stderr)
    {
        string[] lines = stderr.Trim().Split('\n');
        string error = Assert.Single(lines, line => line.StartsWith("ossuary: ", StringComparison.Ordinal));
        Assert.Equal(lines[^1], error);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        return error;
    }

    [Theory]
    [InlineData("receive")]
    [InlineData("serve")]
    [InlineData("udp-serve")]
    public async Task AMissingAuthorizedKeysFileStopsTheServerAtStartWithExitCode6(string verb)
    {
        string missing = Path.Combine(Home, "no", "such", "authorized_keys");
        var (code, stderr) = await RunExpectingExit(ServingVerb(verb, missing));
        Assert.Equal(6, code);
        string error = ErrorLine(stderr);
        Assert.Contains($"'{missing}' does not exist", error);
        Assert.Contains("ossuary authorized-keys add KEY --file", error);
    }

    [Theory]
    [InlineData("receive", "directory", "is a directory")]
    [InlineData("serve", "empty", "authorizes no key")]
    [InlineData("udp-serve", "comments", "authorizes no key")]
    [InlineData("receive", "group-writable", "is writable by its group or by others")]
    [InlineData("serve", "world-writable", "chmod go-w")]
    [InlineData("udp-serve", "group-writable", "refusing it, as sshd does")]
    [InlineData("receive", "writable-directory", "who could replace the file")]
    [InlineData("serve", "fifo", "authorizes no key")]
    public async Task AnAuthorizedKeysFileThatCannotServeOrThatOthersMayWriteIsRefusedAtStart(string verb, string problem, string expected)
    {
        string directory = Path.Combine(Home, "trust");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        string path = Path.Combine(directory, "authorized_keys");
        string line = $"{TestKeys.Client.PublicKey} alice\n";
        const UnixFileMode Owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        switch (problem)
        {
            case "directory":
                Directory.CreateDirectory(path);
                break;
            case "empty":
                File.WriteAllText(path, "");
                break;
            case "comments":
                File.WriteAllText(path, "# alice's laptop, to be added\n\n");
                break;
            case "group-writable":
                File.WriteAllText(path, line);
                File.SetUnixFileMode(path, Owner | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
                break;
            case "world-writable":
                File.WriteAllText(path, line);
                File.SetUnixFileMode(path, Owner | UnixFileMode.OtherWrite);
                break;
            case "writable-directory":
                File.WriteAllText(path, line);
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);
                break;
            case "fifo":
                using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path]))
                {
                    await mkfifo.WaitForExitAsync();
                }
                break;
        }
        var (code, stderr) = await RunExpectingExit(ServingVerb(verb, path));
        Assert.Equal(6, code);
        string error = ErrorLine(stderr);
        Assert.Contains(problem == "writable-directory" ? $"'{directory}'" : $"'{path}'", error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task AGoodAuthorizedKeysFileInAStickyWorldWritableDirectoryIsAccepted()
    {
        // As /tmp: others may write in it, but not replace a file they do not own.
        string directory = Path.Combine(Home, "shared");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, (UnixFileMode)Convert.ToInt32("1777", 8));
        string path = Path.Combine(directory, "authorized_keys");
        File.WriteAllText(path, $"{TestKeys.Client.PublicKey} alice\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using CliProcess serve = CliProcess.Start(Home, ServingVerb("serve", path));
        await serve.WaitForStderr(@"(serving 127\.0\.0\.1:\d+)");
        Assert.False(serve.HasExited);
    }
    private static async Task<string> FingerprintOf(string home)
    {
        var (code, stdout, stderr) = await CliProcess.Run(home, null, "id");
        Assert.True(code == 0, stderr);
        return Regex.Match(System.Text.Encoding.UTF8.GetString(stdout), @"fingerprint +(\S+)").Groups[1].Value;
    }

    /// <summary>An authorized-keys file in <see cref="CliHomes.Home"/> that holds one key, not the other home's.</summary>
    private string AuthorizedKeysWithoutTheClient()
    {
        string path = Path.Combine(Home, "authorized_keys");
        File.WriteAllText(path, $"{TestKeys.Other.PublicKey} someone-else\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    [Fact]
    public async Task AReceiverPrintsEachRefusedSenderWithoutVerboseAddressFingerprintAndReason()
    {
        string authorizedKeys = AuthorizedKeysWithoutTheClient();
        string fingerprint = await FingerprintOf(OtherHome);
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--authorized-keys", authorizedKeys);
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        string source = Path.Combine(OtherHome, "a.txt");
        File.WriteAllText(source, "hello");

        var send = await CliProcess.Run(OtherHome, null, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        Assert.Equal(4, send.Code);
        string line = await receive.WaitForStderr(@"(refused client 127\.0\.0\.1:\d+ .*)");
        Assert.Equal($"(fingerprint {fingerprint}): its key is not in {authorizedKeys}", line[line.IndexOf('(', StringComparison.Ordinal)..]);
        Assert.False(receive.HasExited); // it goes on waiting for a sender it knows
    }

    [Fact]
    public async Task AServerPinnedToOneClientPrintsTheOthersItRefuses()
    {
        using var echo = new PlainEchoServer();
        string fingerprint = await FingerprintOf(OtherHome);
        await using CliProcess serve = CliProcess.Start(Home, "serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echo.Port}", "--peer", TestKeys.Other.PublicKey.Fingerprint);
        string port = await serve.WaitForStderr(@"serving 127\.0\.0\.1:(\d+)");
        await using CliProcess forward = CliProcess.Start(OtherHome, "forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--tofu", "accept");
        string forwardPort = await forward.WaitForStderr(@"forwarding 127\.0\.0\.1:(\d+)");
        using (var client = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(IPAddress.Loopback, int.Parse(forwardPort, System.Globalization.CultureInfo.InvariantCulture));
            await client.SendAsync("hi"u8.ToArray());
            await serve.WaitForStderr($@"(refused client 127\.0\.0\.1:\d+ \(fingerprint {fingerprint}\): it is not the client given with --peer {TestKeys.Other.PublicKey.Fingerprint})");
        }
    }

    [Fact]
    public async Task UdpServePrintsEachRefusedClient()
    {
        string authorizedKeys = AuthorizedKeysWithoutTheClient();
        string fingerprint = await FingerprintOf(OtherHome);
        await using CliProcess serve = CliProcess.Start(Home, "udp-serve", "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9", "--authorized-keys", authorizedKeys);
        string port = await serve.WaitForStderr(@"serving udp 127\.0\.0\.1:(\d+)");
        // In XX the client finishes first: it may not learn of the refusal; the server says it.
        await using CliProcess forward = CliProcess.Start(OtherHome, "udp-forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--tofu", "accept");
        await serve.WaitForStderr($@"(refused client 127\.0\.0\.1:\d+ \(fingerprint {fingerprint}\): its key is not in {Regex.Escape(authorizedKeys)})");
    }

    [Fact]
    public async Task FailedHandshakesAreOneLineEachByDefaultAndAFloodIsRateLimitedWithACountOfWhatWasLeftOut()
    {
        using var echo = new PlainEchoServer();
        await using CliProcess serve = CliProcess.Start(Home, "serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echo.Port}", "--accept-any");
        int port = int.Parse(await serve.WaitForStderr(@"serving 127\.0\.0\.1:(\d+)"), System.Globalization.CultureInfo.InvariantCulture);

        async Task PlainHttp()
        {
            using var curl = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await curl.ConnectAsync(IPAddress.Loopback, port);
            await curl.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            byte[] buffer = new byte[64];
            try
            {
                while (await curl.ReceiveAsync(buffer).WaitAsync(Loopback.Guard) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // reset: closed all the same
            }
        }

        for (int i = 0; i < 30; i++)
        {
            await PlainHttp();
        }
        await Task.Delay(300);
        int shown = Regex.Count(serve.Stderr, "handshake from 127\\.0\\.0\\.1:\\d+ failed: 127\\.0\\.0\\.1:\\d+ sent an HTTP request");
        Assert.InRange(shown, 10, 15); // a burst of 10, then one a second: never one each of 30
        await Task.Delay(2000);
        await PlainHttp();
        await serve.WaitForStderr(@"(sent an HTTP request.* \(\d+ more refused or failed clients not shown\))");
    }
}
