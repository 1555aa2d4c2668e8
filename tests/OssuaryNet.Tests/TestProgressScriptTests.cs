using System.Diagnostics;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// scripts/test-progress.py, through which scripts/test.sh shows a test run: progress and failures on the console,
/// every line in the log.
/// </summary>
public sealed class TestProgressScriptTests : IDisposable
{
    private readonly string _log = Path.GetTempFileName();

    public void Dispose() => File.Delete(_log);

    private async Task<string> Filter(IEnumerable<(string Line, TimeSpan PauseAfter)> input, double heartbeatSeconds = 30)
    {
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
                 {
                     Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "scripts", "test-progress.py"),
                     "--heartbeat", heartbeatSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), _log,
                 })
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        foreach ((string line, TimeSpan pause) in input)
        {
            await process.StandardInput.WriteLineAsync(line);
            await process.StandardInput.FlushAsync();
            await Task.Delay(pause);
        }
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(Loopback.Guard);
        Assert.Equal(0, process.ExitCode);
        return await output;
    }

    private static (string, TimeSpan) Now(string line) => (line, TimeSpan.Zero);

    [Fact]
    public async Task FailuresAndSkipsAreShownAtOncePassesOnlyCountedAndTheLogKeepsEveryLine()
    {
        string[] lines =
        [
            "Test run for /repo/tests/OssuaryNet.Tests/bin/Release/net10.0/OssuaryNet.Tests.dll (.NETCoreApp,Version=v10.0)",
            .. Enumerable.Range(0, 150).Select(i => $"  Passed OssuaryNet.Tests.Some.Test{i} [3 ms]"),
            "  Failed OssuaryNet.Tests.Some.Broken(value: 1) [12 ms]",
            "  Error Message:",
            "   Assert.Equal() Failure",
            "  Skipped OssuaryNet.Tests.Some.Unrun [1 ms]",
            "Total tests: 152",
            "== the C test programs",
            "C test program ossuary_test: 505 passed, 0 failed",
            "FAIL UDP: C datagram client -> .NET udp-serve (xx, XX)",
        ];
        string console = await Filter(lines.Select(Now));

        Assert.Contains("OssuaryNet.Tests: running", console);
        Assert.Contains("  FAILED OssuaryNet.Tests.Some.Broken(value: 1)", console);
        Assert.Contains("  SKIPPED OssuaryNet.Tests.Some.Unrun", console);
        Assert.Contains("  FAILED UDP: C datagram client -> .NET udp-serve (xx, XX)", console);
        Assert.Contains("100 done (100 passed, 0 failed, 0 skipped)", console); // the running count
        Assert.Contains("the C test programs (152 done (150 passed, 1 failed, 1 skipped)", console);
        Assert.Contains("finished: 658 done (655 passed, 2 failed, 1 skipped)", console);
        Assert.DoesNotContain("Passed OssuaryNet.Tests.Some.Test7", console);
        Assert.True(console.Split('\n').Length < 20, console);
        Assert.Equal(lines, await File.ReadAllLinesAsync(_log));
    }

    [Fact]
    public async Task ALongSilentTestGetsAStillRunningLineWithTheCount()
    {
        string console = await Filter(
        [
            Now("  Passed OssuaryNet.Tests.Quick [1 ms]"),
            ("  Passed OssuaryNet.Tests.Quick2 [1 ms]", TimeSpan.FromSeconds(2.5)), // then a long test, silent
            Now("  Passed OssuaryNet.Tests.Long [2 s]"),
        ], heartbeatSeconds: 1);

        Assert.Contains("still running: 2 done (2 passed, 0 failed, 0 skipped)", console);
        Assert.Contains("finished: 3 done (3 passed, 0 failed, 0 skipped)", console);
    }
}
