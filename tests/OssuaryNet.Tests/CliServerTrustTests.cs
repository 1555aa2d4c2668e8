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
}
