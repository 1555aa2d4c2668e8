using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// What the ossuary tool promises in README's "Command line" section, checked on the real tool as separate processes:
/// refusals before bulk data, one-line errors, the key-changed banner, first-contact notices, timeouts, private
/// directories.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliPromiseTests : CliHomes
{
    private string SparseFile(string name, long size)
    {
        string path = Path.Combine(OtherHome, name);
        using FileStream file = File.Create(path);
        file.SetLength(size); // sparse: costs nothing to create, would take a long while to send
        return path;
    }

    /// <summary>The error is one line, the last, starting "ossuary: " (a note such as "created a new identity" may precede it).</summary>
    private static void AssertOneErrorLine(string stderr, string expected)
    {
        string[] lines = stderr.Trim().Split('\n');
        string error = Assert.Single(lines, line => line.StartsWith("ossuary: ", StringComparison.Ordinal));
        Assert.Equal(lines[^1], error);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", stderr, StringComparison.Ordinal); // no terminal escape sequence when stderr is not a terminal
    }

    [Fact]
    public async Task AnExistingFileIsRefusedBeforeAnyContentHoweverLargeTheOffer()
    {
        string inbox = Path.Combine(Home, "inbox");
        Directory.CreateDirectory(inbox);
        await File.WriteAllTextAsync(Path.Combine(inbox, "huge.bin"), "already here");
        string source = SparseFile("huge.bin", 8L << 30);
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");

        var send = await CliProcess.Run(OtherHome, null, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        Assert.True(send.Code == 7, send.Stderr);
        AssertOneErrorLine(send.Stderr, "refused the file");
        Assert.Equal(7, await receive.WaitForExit());
        Assert.Equal("already here", await File.ReadAllTextAsync(Path.Combine(inbox, "huge.bin")));
        Assert.Single(Directory.GetFileSystemEntries(inbox)); // no temporary file left either
    }

    [Fact]
    public async Task ARejectedSenderKeyIsExitCode4NotABrokenPipeHoweverLargeTheFile()
    {
        string inbox = Path.Combine(Home, "inbox");
        string source = SparseFile("huge.bin", 8L << 30);
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox,
            "--peer", TestKeys.Other.PublicKey.ToString());
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");

        var send = await CliProcess.Run(OtherHome, null, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        Assert.True(send.Code == 4, send.Stderr);
        Assert.Contains("reject", send.Stderr.Split('\n').Last(line => line.StartsWith("ossuary: ", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Broken pipe", send.Stderr);
        Assert.False(Directory.Exists(inbox) && Directory.EnumerateFileSystemEntries(inbox).Any());
        receive.Kill(); // it goes on waiting for an authorized sender
    }

    [Theory]
    [InlineData(new[] { "listen", "abc" }, "cannot read 'abc'")]
    [InlineData(new[] { "listen", "7000", "--pq", "maybe" }, "expected off, preferred or required")]
    [InlineData(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'")]
    [InlineData(new[] { "listen", "\u001b[2Jabc" }, "cannot read '\\u{001B}[2Jabc'")]
    [InlineData(new[] { "send" }, "Required argument missing")]
    [InlineData(new[] { "connect", "127.0.0.1:1", "--timeout", "-3" }, "--timeout takes a number of seconds")]
    [InlineData(new[] { "listen", "0", "--bind", "no.such.host.invalid" }, "--bind takes an IP address")]
    // The server's key with an unused bit of its last base64 digit set: the same bytes, but not a key's text.
    [InlineData(new[] { "connect", "127.0.0.1:1", "--peer", "D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyB=" }, "is not a public key: this base64 is not the form of any key")]
    [InlineData(new[] { "authorized-keys", "add", "D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyB=" }, "altered or mistyped")]
    public async Task EveryArgumentErrorIsOneLineWithExitCode1(string[] arguments, string expected)
    {
        var (code, _, stderr) = await CliProcess.Run(Home, null, arguments);
        Assert.Equal(1, code);
        AssertOneErrorLine(stderr, expected);
    }

    [Fact]
    public async Task TheKeyChangedBannerNamesTheRealEndpointAndSaysItsSentenceOnce()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        string knownHosts = Path.Combine(OtherHome, ".config", "ossuary", "known_hosts");
        Directory.CreateDirectory(Path.GetDirectoryName(knownHosts)!);
        await File.WriteAllTextAsync(knownHosts, $"127.0.0.1:{port} {TestKeys.Other.PublicKey}\n");

        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}");
        Assert.Equal(5, code);
        Assert.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", stderr);
        Assert.Contains($"ossuary known-hosts remove 127.0.0.1:{port}", stderr);
        Assert.Single(Regex.Matches(stderr, "has changed: "));
        Assert.StartsWith("ossuary: ", stderr.Trim().Split('\n')[^1]);
    }

    [Fact]
    public async Task FirstContactAcceptedWithoutATerminalIsAnnouncedOnOneLine()
    {
        await using CliProcess listen = CliProcess.Start(Home, "listen", "0", "--bind", "127.0.0.1");
        string port = await listen.WaitForStderr(@"listening on 127\.0\.0\.1:(\d+)");
        await listen.CloseInput("hi"u8.ToArray());

        var (code, stdout, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}");
        Assert.True(code == 0, stderr);
        Assert.Equal("hi"u8.ToArray(), stdout);
        string notice = Assert.Single(stderr.Trim().Split('\n'), line => line.Contains("permanently added"));
        Assert.Contains($"127.0.0.1:{port}", notice);
        Assert.Contains("known_hosts", notice);

        // Known from now on: no notice the second time.
        await using CliProcess again = CliProcess.Start(Home, "listen", port, "--bind", "127.0.0.1");
        await again.WaitForStderr("listening on");
        await again.CloseInput([]);
        var second = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}");
        Assert.True(second.Code == 0, second.Stderr);
        Assert.DoesNotContain("permanently added", second.Stderr);
    }

    [Fact]
    public async Task ASilentServerMeetsTheTimeoutWithExitCode3()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(); // the kernel completes the TCP handshake; nobody ever answers the Noise one
        int port = ((IPEndPoint)silent.LocalEndPoint!).Port;

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "connect", $"127.0.0.1:{port}", "--timeout", "1", "--tofu", "accept");
        Assert.Equal(3, code);
        AssertOneErrorLine(stderr, $"No secure connection to 127.0.0.1:{port} within 1 s");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}"); // a bound against hanging, not a timing
    }

    [Fact]
    public async Task UdpForwardMeetsTheTimeoutWhenNothingAnswersWithExitCode3()
    {
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // takes the Initiations, never answers
        int port = ((IPEndPoint)silent.LocalEndPoint!).Port;

        var (code, _, stderr) = await CliProcess.Run(OtherHome, [], "udp-forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{port}", "--timeout", "1", "--tofu", "accept");
        Assert.Equal(3, code);
        AssertOneErrorLine(stderr, $"No secure connection to 127.0.0.1:{port} within 1 s");
    }

    [Fact]
    public async Task AKeyDirectoryIsCreatedForItsOwnerOnly()
    {
        string key = Path.Combine(Home, "keys", "nested", "id");
        var (code, _, stderr) = await CliProcess.Run(Home, null, "keygen", "--key", key);
        Assert.True(code == 0, stderr);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(key)!));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
    }
}
