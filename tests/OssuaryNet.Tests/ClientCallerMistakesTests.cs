using System.Net;
using System.Net.Sockets;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// What a client caller is told when the connection cannot be made or the call itself is wrong: an IOException that
/// names the address (as README promises), and ArgumentException at the call, before anything is sent.
/// </summary>
public sealed class ClientCallerMistakesTests
{
    private static int ClosedPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port; // bound, never listening, then closed: nothing answers there
    }

    [Fact]
    public async Task ConnectingToAClosedPortIsAnIOExceptionNamingTheAddress()
    {
        int port = ClosedPort();
        Exception error = await Record.ExceptionAsync(() => OssuaryClient.ConnectAsync("127.0.0.1", port, Loopback.ClientOptions()));
        Assert.IsType<IOException>(error); // exactly: not a raw SocketException, and not a protocol failure
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("nothing is listening", error.Message);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task ANameThatDoesNotResolveIsAnIOExceptionNamingIt()
    {
        Exception error = await Record.ExceptionAsync(() => OssuaryClient.ConnectAsync("no-such-host.invalid", 7000, Loopback.ClientOptions()));
        Assert.IsType<IOException>(error);
        Assert.Contains("no-such-host.invalid:7000", error.Message);
        Assert.Contains("does not resolve", error.Message);
        Assert.IsType<SocketException>(error.InnerException);
    }

    [Fact]
    public void InvalidOptionsAreAnArgumentExceptionAtTheCallBeforeAnyConnection()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;

        var noKey = new OssuaryClientOptions { PeerVerifier = PeerVerifier.AcceptAny };
        var noVerifier = new OssuaryClientOptions { StaticKeyPair = TestKeys.Client };
        var badSuite = new OssuaryClientOptions { StaticKeyPair = TestKeys.Client, PeerVerifier = PeerVerifier.AcceptAny, Suite = (OssuarySuite)99 };
        foreach (OssuaryClientOptions options in new[] { noKey, noVerifier, badSuite })
        {
            Assert.Throws<ArgumentException>(() => { _ = OssuaryClient.ConnectAsync(endpoint, options); }); // thrown, not a faulted task
        }
        Assert.False(listener.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead), "a connection was made before the options were checked");
    }

    [Fact]
    public void KnownHostsWithoutAServerNameIsAnArgumentExceptionBeforeTheHandshake()
    {
        string directory = Directory.CreateTempSubdirectory("ossuary-tests-").FullName;
        try
        {
            var options = new OssuaryClientOptions { StaticKeyPair = TestKeys.Client, PeerVerifier = new KnownHosts(Path.Combine(directory, "known_hosts")) };
            using var transport = new UntouchableStream();
            using var stream = new OssuaryStream(transport);

            ArgumentException error = Assert.Throws<ArgumentException>(() => { _ = stream.AuthenticateAsClientAsync(options); });
            Assert.Equal("serverName", error.ParamName);
            Assert.Throws<ArgumentException>(() => stream.AuthenticateAsClient(options));
            Assert.False(transport.Touched, "the handshake started before the missing server name was noticed");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A transport that records whether anything read or wrote it.</summary>
    private sealed class UntouchableStream : Stream
    {
        public bool Touched { get; private set; }
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => Touched = true;
        public override int Read(byte[] buffer, int offset, int count) => Touch(0);
        public override void Write(byte[] buffer, int offset, int count) => Touch(0);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Touch(0));
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) { Touch(0); return ValueTask.CompletedTask; }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private int Touch(int result)
        {
            Touched = true;
            return result;
        }
    }
}
