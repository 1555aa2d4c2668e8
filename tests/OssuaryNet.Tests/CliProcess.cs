using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace OssuaryNet.Tests;

/// <summary>Runs the built `ossuary` tool as a separate process with its own HOME, for end-to-end tests.</summary>
internal sealed class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly MemoryStream _stdout = new();
    private readonly Task _stdoutPump, _stderrPump;

    private CliProcess(Process process)
    {
        _process = process;
        _stdoutPump = process.StandardOutput.BaseStream.CopyToAsync(_stdout);
        _stderrPump = Task.Run(async () =>
        {
            string? line;
            while ((line = await process.StandardError.ReadLineAsync()) is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(line);
                }
            }
        });
    }

    public static string ToolPath
    {
        get
        {
            // The tests' own build configuration (Debug or Release) picks the tool's.
            string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            string path = Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "src", "OssuaryNet.Cli", "bin", configuration, "net10.0", "ossuary.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The ossuary tool was not built at {path}.");
        }
    }

    public static CliProcess Start(string home, params string[] arguments) => Start(home, descriptorLimit: null, arguments);

    /// <summary>Starts the tool with <paramref name="environment"/> added to its environment (NOTIFY_SOCKET, JOURNAL_STREAM).</summary>
    public static CliProcess Start(string home, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Start(home, descriptorLimit: null, environment, arguments);

    /// <summary>Starts the tool; with <paramref name="descriptorLimit"/>, under that `ulimit -n` (through bash, which then execs it).</summary>
    public static CliProcess Start(string home, int? descriptorLimit, params string[] arguments) =>
        Start(home, descriptorLimit, new Dictionary<string, string>(), arguments);

    private static CliProcess Start(string home, int? descriptorLimit, IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        var start = new ProcessStartInfo(descriptorLimit is null ? "dotnet" : "bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (descriptorLimit is int limit)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add($"ulimit -n {limit} && exec dotnet \"$@\"");
            start.ArgumentList.Add("bash");
        }
        start.ArgumentList.Add(ToolPath);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["HOME"] = home;
        start.Environment.Remove("XDG_CONFIG_HOME");
        start.Environment.Remove("NOTIFY_SOCKET"); // a test's tool never talks to a service manager unless the test says so
        start.Environment.Remove("JOURNAL_STREAM");
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }
        return new CliProcess(Process.Start(start)!);
    }

    /// <summary>Runs to completion with the given stdin; returns exit code, stdout and stderr.</summary>
    public static async Task<(int Code, byte[] Stdout, string Stderr)> Run(string home, byte[]? stdin, params string[] arguments)
    {
        await using CliProcess process = Start(home, arguments);
        await process.CloseInput(stdin);
        int code = await process.WaitForExit();
        return (code, process.Stdout, process.Stderr);
    }

    public int Id => _process.Id;
    public byte[] Stdout => _stdout.ToArray();

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async Task CloseInput(byte[]? data = null)
    {
        if (data is not null)
        {
            await _process.StandardInput.BaseStream.WriteAsync(data);
        }
        _process.StandardInput.Close();
    }

    public async Task<int> WaitForExit()
    {
        await _process.WaitForExitAsync().WaitAsync(Loopback.Guard);
        await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(Loopback.Guard);
        return _process.ExitCode;
    }

    /// <summary>Waits until stderr shows a line matching <paramref name="pattern"/> and returns its first group.</summary>
    public async Task<string> WaitForStderr(string pattern)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + Loopback.Guard;
        while (DateTime.UtcNow < deadline)
        {
            Match match = regex.Match(Stderr);
            if (match.Success)
            {
                return match.Groups[1].Value;
            }
            if (_process.HasExited)
            {
                break;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"'{pattern}' never appeared on stderr:\n{Stderr}");
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Sends SIGTERM, as a service manager stopping the tool would.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>Sends SIGHUP, as `systemctl reload` does through the unit's ExecReload.</summary>
    public void Hangup() => Process.Start("kill", ["-HUP", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
