using System.Diagnostics;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// examples/systemd/ossuary.service, checked by systemd's own tools (systemd cannot run here, its analyzer can): the
/// unit is valid, and `systemd-analyze security` rates its exposure at most 1.4 of 10, so that no hardening option is
/// dropped unnoticed.
/// </summary>
public sealed class SystemdUnitTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ossuary-unit-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The unit with its ExecStart pointed at a program that exists here (verify checks that it does).</summary>
    private string UnitCopy()
    {
        string unit = File.ReadAllText(Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "examples", "systemd", "ossuary.service"));
        Assert.Contains("ExecStart=/usr/local/lib/ossuary/ossuary run /etc/ossuary/tunnels.toml", unit);
        string path = Path.Combine(_directory, "ossuary.service");
        File.WriteAllText(path, unit.Replace("/usr/local/lib/ossuary/ossuary", "/bin/true", StringComparison.Ordinal));
        return path;
    }

    private static (int Code, string Output) Analyze(params string[] arguments)
    {
        var start = new ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["SYSTEMD_LOG_LEVEL"] = "notice";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new Xunit.Sdk.XunitException($"systemd-analyze is needed to check the unit file (Debian package systemd): {e.Message}");
        }
        using (process)
        {
            Task<string> output = process.StandardOutput.ReadToEndAsync(), errors = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(Loopback.Guard), "systemd-analyze did not finish");
            return (process.ExitCode, output.Result + errors.Result);
        }
    }

    [Fact]
    public void TheUnitFileIsValid()
    {
        var (code, output) = Analyze("verify", "--man=no", UnitCopy());
        Assert.True(code == 0 && output.Trim().Length == 0, output);
    }

    [Fact]
    public void TheUnitFileKeepsItsHardening()
    {
        // The threshold is in tenths: exposure 1.4 or less (what the unit has: dropping an option raises it).
        var (code, output) = Analyze("security", "--offline=true", "--threshold=14", "--no-pager", UnitCopy());
        Assert.True(code == 0, output);
        Assert.Contains("Overall exposure level for ossuary.service", output);
    }
}
