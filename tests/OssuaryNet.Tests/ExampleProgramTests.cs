using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// The example programs, run as a user runs them: a failure is one line that says what happened, never a stack
/// trace, and what they print is what they measured.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ExampleProgramTests : IDisposable
{
    private readonly string _examplesDirectory = Directory.CreateTempSubdirectory("ossuary-examples-").FullName;

    public void Dispose() => Directory.Delete(_examplesDirectory, recursive: true);

    private async Task<(int Code, string Stdout, string Stderr)> Run(string example, params string[] arguments)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string dll = Path.Combine(ProtocolDocumentTests.RepositoryRoot(), "examples", example, "bin", configuration, "net10.0", example + ".dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["OSSUARY_EXAMPLES_DIR"] = _examplesDirectory; // never the user's own example keys
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Loopback.Guard);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static void AssertOneLine(string stderr, string expected)
    {
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [Fact]
    public async Task EchoClientToAClosedPortSaysSoInOneLine()
    {
        int port = ClosedPort();
        var (code, _, stderr) = await Run("EchoClient", "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEqual(0, code);
        AssertOneLine(stderr, $"EchoClient: Cannot connect to 127.0.0.1:{port}: nothing is listening on that port");
    }

    [Fact]
    public async Task HttpCallerRefusesAnHttpsUrlInOneLine()
    {
        var (code, _, stderr) = await Run("HttpCaller", "https://127.0.0.1:5080/hello", TestKeys.Server.PublicKey.ToString());
        Assert.Equal(1, code);
        AssertOneLine(stderr, "is not an http:// URL; use http://");
    }

    [Fact]
    public async Task HttpCallerWhoseKeyTheServiceRefusesSaysSoInOneLine()
    {
        // A service holding TestKeys.Server that accepts only TestKeys.Other: the caller's own key is refused.
        await using var service = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, 0),
            new OssuaryServerOptions { StaticKeyPair = TestKeys.Server, PeerVerifier = PeerVerifier.Pinned(TestKeys.Other.PublicKey), PostQuantum = OssuaryPostQuantum.Preferred });
        service.Start();
        var (code, _, stderr) = await Run("HttpCaller", $"http://127.0.0.1:{service.LocalEndpoint.Port}/hello", TestKeys.Server.PublicKey.ToString());
        Assert.Equal(1, code);
        AssertOneLine(stderr, "HttpCaller: The peer rejected this side's identity");
    }

    [Fact]
    public async Task UdpPingReportsThePingsItMeasuredAndLabelsTheHandshakeEstimate()
    {
        var (code, stdout, stderr) = await Run("UdpPing");
        Assert.True(code == 0, stderr);
        double[] pings = [.. Regex.Matches(stdout, @"ping \d back in ([\d.]+) ms").Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(5, pings.Length);
        Match summary = Regex.Match(stdout, @"5 pings, rtt min/avg/max ([\d.]+)/([\d.]+)/([\d.]+) ms");
        Assert.True(summary.Success, stdout);
        Assert.Equal(pings.Min().ToString("F2", System.Globalization.CultureInfo.InvariantCulture), summary.Groups[1].Value);
        Assert.Equal(pings.Max().ToString("F2", System.Globalization.CultureInfo.InvariantCulture), summary.Groups[3].Value);
        Assert.DoesNotContain("smoothed RTT", stdout); // the connection's estimate, from the handshake, is not the pings'
        Assert.Contains("(handshakes and path challenges only)", stdout);
    }
}
