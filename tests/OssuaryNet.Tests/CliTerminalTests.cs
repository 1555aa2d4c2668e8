using System.Diagnostics;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// The first-contact question is asked on the controlling terminal while the handshake is paused for its verdict.
/// These tests give the tool a real pseudo-terminal (through Python's pty module) and answer it there.
/// </summary>
public sealed class CliTerminalTests : CliHomes
{
    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    public async Task TheFirstContactQuestionIsAnsweredOnTheTerminal(string answer)
    {
        string source = Path.Combine(OtherHome, "note.txt");
        await File.WriteAllTextAsync(source, "hello over a verified channel\n");
        string inbox = Path.Combine(Home, "inbox");
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");

        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[Path.Combine(AppContext.BaseDirectory, "Terminal", "answer-on-terminal.py"), answer,
                     "dotnet", CliProcess.ToolPath, "send", source, $"127.0.0.1:{port}", "--tofu", "ask"])
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["HOME"] = OtherHome;
        start.Environment.Remove("XDG_CONFIG_HOME");
        using Process sender = Process.Start(start)!;
        Task<string> terminal = sender.StandardOutput.ReadToEndAsync();
        Task<string> errors = sender.StandardError.ReadToEndAsync();
        await sender.WaitForExitAsync().WaitAsync(Loopback.Guard);
        string transcript = await terminal + await errors;

        Assert.Contains("can't be established", transcript);
        Assert.Contains("(yes/no)?", transcript);
        Assert.DoesNotContain("Cannot access a closed file", transcript);
        string knownHosts = Path.Combine(OtherHome, ".config", "ossuary", "known_hosts");
        if (answer == "yes")
        {
            Assert.True(sender.ExitCode == 0, transcript);
            Assert.Equal(0, await receive.WaitForExit());
            Assert.Equal("hello over a verified channel\n", await File.ReadAllTextAsync(Path.Combine(inbox, "note.txt")));
            Assert.Contains($"127.0.0.1:{port} ", await File.ReadAllTextAsync(knownHosts));
        }
        else
        {
            Assert.NotEqual(0, sender.ExitCode);
            Assert.False(File.Exists(knownHosts) && (await File.ReadAllTextAsync(knownHosts)).Contains($"127.0.0.1:{port}"));
            Assert.False(Directory.Exists(inbox) && Directory.EnumerateFiles(inbox).Any());
        }
    }
}
