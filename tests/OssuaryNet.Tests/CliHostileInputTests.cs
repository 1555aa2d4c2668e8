using System.Globalization;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// The `ossuary` tool against hostile names, files, arguments, signals and descriptor limits, as separate processes.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliHostileInputTests : CliHomes
{
    private static void AssertOneCleanErrorLine(string stderr)
    {
        string[] lines = stderr.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("ossuary: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", stderr, StringComparison.Ordinal);
    }

    /// <summary>Runs `receive --accept-any` into <paramref name="inbox"/> and `send` of <paramref name="source"/>; returns both exit codes and the receiver's stderr.</summary>
    private async Task<(int Receiver, int Sender, string ReceiverStderr, string SenderStderr)> Transfer(string source, string inbox, params string[] receiveOptions)
    {
        await using CliProcess receive = CliProcess.Start(Home, ["receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any", .. receiveOptions]);
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        var send = await CliProcess.Run(OtherHome, null, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        return (await receive.WaitForExit(), send.Code, receive.Stderr, send.Stderr);
    }

    private string SourceFile(string name, int size = 1000)
    {
        string directory = Path.Combine(OtherHome, "out");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, new byte[size]);
        return path;
    }

    [Theory]
    [InlineData("receive", new[] { "0", "--bind", "127.0.0.1" })]
    [InlineData("serve", new[] { "--listen", "127.0.0.1:0", "--to", "127.0.0.1:9" })]
    public async Task ServingVerbsRequireAnExplicitChoiceOfClients(string verb, string[] arguments)
    {
        var (code, _, stderr) = await CliProcess.Run(Home, null, [verb, .. arguments]);
        Assert.Equal(1, code);
        AssertOneCleanErrorLine(stderr);
        Assert.Contains("--accept-any", stderr);
    }

    [Fact]
    public async Task AnInvalidBindAddressIsAUsageErrorWithoutAStackTrace()
    {
        var (code, _, stderr) = await CliProcess.Run(Home, null, "listen", "0", "--bind", "not-an-address\u001b[31m");
        Assert.Equal(1, code);
        AssertOneCleanErrorLine(stderr);
        Assert.Contains("\\u{001B}", stderr);
    }

    [Theory]
    [InlineData("line\nbreak.txt")]
    [InlineData("carriage\rreturn.txt")]
    [InlineData("\u001b[2J\u001b[31mred.txt")]
    [InlineData("right\u202etxt.exe")]
    [InlineData(".bashrc")]
    public async Task HostileFileNamesAreRefusedPrintedEscapedAndTheSenderIsTold(string name)
    {
        string inbox = Path.Combine(Home, "inbox");
        var (receiver, sender, receiverStderr, senderStderr) = await Transfer(SourceFile(name), inbox);
        Assert.Equal(7, receiver);
        Assert.Equal(7, sender);
        Assert.Contains("Refused the offered file", receiverStderr);
        Assert.Contains("refused", senderStderr);
        Assert.DoesNotContain("\u001b", receiverStderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", receiverStderr, StringComparison.Ordinal);
        Assert.DoesNotContain("\u202e", receiverStderr, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(inbox) ? Directory.GetFileSystemEntries(inbox) : []);
    }

    [Fact]
    public async Task AHiddenNameIsAcceptedWhenAskedFor()
    {
        string inbox = Path.Combine(Home, "inbox");
        var (receiver, sender, receiverStderr, _) = await Transfer(SourceFile(".profile"), inbox, "--allow-hidden");
        Assert.True(receiver == 0 && sender == 0, receiverStderr);
        Assert.True(File.Exists(Path.Combine(inbox, ".profile")));
    }

    [Fact]
    public async Task ANameOf255BytesIsReceived()
    {
        string name = new string('n', 251) + ".bin";
        string inbox = Path.Combine(Home, "inbox");
        var (receiver, sender, receiverStderr, _) = await Transfer(SourceFile(name), inbox);
        Assert.True(receiver == 0 && sender == 0, receiverStderr);
        Assert.Equal([name], Directory.GetFileSystemEntries(inbox).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("a file")]
    [InlineData("/proc")]
    public async Task ADestinationThatCannotBeWrittenIsATransferFailureOnBothSides(string destination)
    {
        string inbox = destination == "/proc" ? "/proc" : Path.Combine(Home, "not-a-directory");
        if (destination == "a file")
        {
            File.WriteAllText(inbox, "I am a file");
        }
        var (receiver, sender, receiverStderr, senderStderr) = await Transfer(SourceFile("data.bin"), inbox);
        Assert.Equal(7, receiver);
        AssertOneCleanErrorLine(receiverStderr.Split('\n').Last(l => l.StartsWith("ossuary: ", StringComparison.Ordinal)));
        Assert.Contains("Cannot store", receiverStderr);
        Assert.Equal(7, sender);
        Assert.Contains("could not store", senderStderr);
    }

    [Fact]
    public async Task AFifoGivenAsTheKeyFileFailsAtOnce()
    {
        string fifo = Path.Combine(Home, "key.fifo");
        Assert.Equal(0, (await Command("mkfifo", fifo)).Code);
        File.SetUnixFileMode(fifo, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (code, _, stderr) = await CliProcess.Run(Home, null, "id", "--key", fifo);
        Assert.Equal(6, code);
        AssertOneCleanErrorLine(stderr);
        Assert.Contains("not a regular file", stderr);
    }

    [Fact]
    public async Task SigtermDuringAReceiveLeavesNoPartialFile()
    {
        string source = Path.Combine(OtherHome, "big.bin");
        await using (var file = File.Create(source))
        {
            file.SetLength(4L << 30); // sparse: cheap to create, long enough to interrupt
        }
        string inbox = Path.Combine(Home, "inbox");
        await using CliProcess receive = CliProcess.Start(Home, "receive", "0", "--bind", "127.0.0.1", "--out", inbox, "--accept-any");
        string port = await receive.WaitForStderr(@"waiting for a file on 127\.0\.0\.1:(\d+)");
        await using CliProcess send = CliProcess.Start(OtherHome, "send", source, $"127.0.0.1:{port}", "--tofu", "accept");
        await receive.WaitForStderr("(receiving big.bin)");
        receive.Terminate();
        Assert.Equal(130, await receive.WaitForExit());
        Assert.Empty(Directory.GetFileSystemEntries(inbox));
    }

    [Fact]
    public async Task AClientThatReadsALowOrderServerKeyExitsWithTheProtocolCodeAndSendsTheAlert()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen(1);
        Task<byte[]> fake = Task.Run(async () =>
        {
            using Socket client = await server.AcceptAsync();
            byte[] prefix = new byte[2];
            await client.ReceiveAsync(prefix); // the client's first frame: read and ignore it
            byte[] body = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
            for (int read = 0; read < body.Length;)
            {
                read += await client.ReceiveAsync(body.AsMemory(read));
            }
            byte[] message2 = new byte[2 + 1 + 32 + 48 + 40]; // kind 0x00, an all-zero (low-order) ephemeral key, junk
            BinaryPrimitives.WriteUInt16BigEndian(message2, (ushort)(message2.Length - 2));
            await client.SendAsync(message2);
            var answer = new List<byte>();
            byte[] buffer = new byte[64];
            int n;
            while ((n = await client.ReceiveAsync(buffer)) > 0)
            {
                answer.AddRange(buffer[..n]);
            }
            return answer.ToArray();
        });
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;
        var (code, _, stderr) = await CliProcess.Run(Home, [], "connect", $"127.0.0.1:{port}", "--tofu", "accept");
        Assert.Equal(3, code);
        Assert.Contains("InvalidKey", stderr);
        Assert.Equal(new byte[] { 0, 2, 0x15, (byte)OssuaryErrorCode.InvalidKey }, await fake.WaitAsync(Loopback.Guard));
    }

    [Fact]
    public async Task ServeUnderADescriptorLimitOf128KeepsServingThroughAFloodOfConnections()
    {
        using var echo = new PlainEchoServer();
        int echoPort = echo.Port;
        await using CliProcess serve = CliProcess.Start(Home, descriptorLimit: 128, "serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echoPort}", "--accept-any");
        string servePort = await serve.WaitForStderr(@"serving 127\.0\.0\.1:(\d+)");

        // 600 connections that never speak: far more than the 128 descriptors the server may open.
        var flood = new List<Socket>();
        for (int i = 0; i < 600; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.2.{i % 250 + 1}"), 0));
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, int.Parse(servePort, CultureInfo.InvariantCulture)).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
            }
            flood.Add(socket);
        }

        await using CliProcess forward = CliProcess.Start(OtherHome, "forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{servePort}", "--tofu", "accept");
        string forwardPort = await forward.WaitForStderr(@"forwarding 127\.0\.0\.1:(\d+)");
        for (int i = 0; i < 5; i++)
        {
            byte[] data = Encoding.UTF8.GetBytes($"through the tunnel {i}");
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, int.Parse(forwardPort, CultureInfo.InvariantCulture));
            await using var stream = new NetworkStream(socket);
            await stream.WriteAsync(data);
            socket.Shutdown(SocketShutdown.Send);
            var back = new MemoryStream();
            await stream.CopyToAsync(back).WaitAsync(Loopback.Guard);
            Assert.Equal(data, back.ToArray());
        }
        Assert.False(serve.HasExited, $"serve died:\n{serve.Stderr}");
        flood.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task OutOfDescriptorsTheAcceptLoopBacksOffInsteadOfSpinning()
    {
        using var echo = new PlainEchoServer();
        // A cap far above what `ulimit -n 128` allows, so that accepting really runs out of descriptors.
        await using CliProcess serve = CliProcess.Start(Home, descriptorLimit: 128, "serve", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{echo.Port}",
            "--accept-any", "--max-connections", "5000");
        string servePort = await serve.WaitForStderr(@"serving 127\.0\.0\.1:(\d+)");
        var flood = new List<Socket>();
        for (int i = 0; i < 300; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(IPAddress.Loopback, int.Parse(servePort, CultureInfo.InvariantCulture)).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
            }
            flood.Add(socket);
        }
        await Task.Delay(500);
        Assert.False(serve.HasExited, $"serve died during the flood:\n{serve.Stderr}");
        TimeSpan before = CpuTime(serve.Id);
        await Task.Delay(3000);
        TimeSpan used = CpuTime(serve.Id) - before;
        Assert.False(serve.HasExited, $"serve died:\n{serve.Stderr}");
        // A spinning accept loop burns a whole core (3 s in 3 s). Legitimate work goes on meanwhile (reaping the
        // flood's silent connections at their first-frame deadline, accepting the next ones), which took up to 1.1 s
        // on this 2-core machine with other tests running: half a core separates the two with room on both sides.
        Assert.True(used < TimeSpan.FromSeconds(1.5), $"serve used {used.TotalSeconds:0.00} s of CPU in 3 s while out of descriptors (a spinning accept loop uses 3)");
        flood.ForEach(s => s.Dispose());

        await using CliProcess forward = CliProcess.Start(OtherHome, "forward", "--listen", "127.0.0.1:0", "--to", $"127.0.0.1:{servePort}", "--tofu", "accept");
        string forwardPort = await forward.WaitForStderr(@"forwarding 127\.0\.0\.1:(\d+)");
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, int.Parse(forwardPort, CultureInfo.InvariantCulture));
        await using var stream = new NetworkStream(client);
        await stream.WriteAsync("still serving"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        var back = new MemoryStream();
        await stream.CopyToAsync(back).WaitAsync(Loopback.Guard);
        Assert.Equal("still serving"u8.ToArray(), back.ToArray());
    }

    /// <summary>User plus system CPU time of a process, from /proc/PID/stat (in clock ticks of 1/100 s).</summary>
    private static TimeSpan CpuTime(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    [Fact]
    public async Task AFullDiskIsATransferFailureOnBothSidesAndLeavesNothingBehind()
    {
        string inbox = Path.Combine(Home, "small-disk");
        Directory.CreateDirectory(inbox);
        // A 256 KiB file system (tmpfs) that a 2 MiB file cannot fit in, mounted as root (CI) or through password-less
        // sudo (a developer's account); a tmpfs's root directory is writable by all (mode 1777).
        string[] asRoot = Environment.IsPrivilegedProcess ? [] : ["sudo", "-n"];
        var (mounted, _, mountError) = await Command([.. asRoot, "mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", inbox]);
        Assert.True(mounted == 0, $"this test needs root or password-less sudo to mount a small tmpfs: {mountError}");
        try
        {
            var (receiver, sender, receiverStderr, senderStderr) = await Transfer(SourceFile("big.bin", 2 << 20), inbox);
            Assert.Equal(7, receiver);
            Assert.Contains("Cannot store", receiverStderr);
            Assert.Equal(7, sender);
            Assert.Contains("could not store", senderStderr);
            Assert.Empty(Directory.GetFileSystemEntries(inbox));
        }
        finally
        {
            await Command([.. asRoot, "umount", inbox]);
        }
    }

    private static Task<(int Code, string Stdout, string Stderr)> Command(string name, params string[] arguments) => Command([name, .. arguments]);

    private static async Task<(int Code, string Stdout, string Stderr)> Command(string[] commandLine)
    {
        var start = new System.Diagnostics.ProcessStartInfo(commandLine[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in commandLine[1..])
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        string stdout = await process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, stdout, stderr);
    }
}
