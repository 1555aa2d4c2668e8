using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using OssuaryNet.Trust;
using Xunit;

namespace OssuaryNet.Tests.Integration;

/// <summary>OssuaryDuplexPipe: frames read from a PipeReader and written into a PipeWriter, over real sockets.</summary>
public sealed class DuplexPipeTests
{
    private static async Task<(OssuaryStream Client, OssuaryStream Server, OssuaryListener Listener)> PairAsync()
    {
        var listener = new OssuaryListener(new IPEndPoint(IPAddress.Loopback, 0),
            new OssuaryServerOptions { StaticKeyPair = TestKeys.Server, PeerVerifier = PeerVerifier.AcceptAny });
        listener.Start();
        ValueTask<OssuaryStream> accepting = listener.AcceptAsync();
        OssuaryStream client = await OssuaryClient.ConnectAsync("127.0.0.1", listener.LocalEndpoint.Port,
            new OssuaryClientOptions { StaticKeyPair = TestKeys.Client, PeerVerifier = PeerVerifier.AcceptAny });
        return (client, await accepting, listener);
    }

    [Fact]
    public async Task LengthPrefixedFramesCrossThePipesIntactAndDisposalClosesCleanly()
    {
        (OssuaryStream clientStream, OssuaryStream serverStream, OssuaryListener listener) = await PairAsync();
        await using var _ = listener;
        byte[][] frames = Enumerable.Range(0, 200).Select(i => RandomNumberGenerator.GetBytes(i * 97 % 5000)).ToArray();

        var client = new OssuaryDuplexPipe(clientStream);
        Task writing = Task.Run(async () =>
        {
            foreach (byte[] frame in frames)
            {
                Memory<byte> destination = client.Output.GetMemory(4 + frame.Length);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(destination.Span, frame.Length);
                frame.CopyTo(destination[4..]);
                client.Output.Advance(4 + frame.Length);
                await client.Output.FlushAsync();
            }
            await client.DisposeAsync(); // sends the authenticated close
        });

        await using var server = new OssuaryDuplexPipe(serverStream);
        var received = new List<byte[]>();
        byte[] prefix = new byte[4];
        while (true)
        {
            ReadResult result = await server.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (buffer.Length >= 4)
            {
                buffer.Slice(0, 4).CopyTo(prefix);
                int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (buffer.Length < 4 + length)
                {
                    break;
                }
                received.Add(buffer.Slice(4, length).ToArray());
                buffer = buffer.Slice(4 + length);
            }
            server.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty);
                break;
            }
        }
        await writing;
        Assert.Equal(frames.Length, received.Count);
        for (int i = 0; i < frames.Length; i++)
        {
            Assert.Equal(frames[i], received[i]);
        }
    }

    [Fact]
    public async Task ATamperedRecordSurfacesFromTheReaderAsTheStreamsException()
    {
        await using OssuaryListener listener = Loopback.Listen(Loopback.ServerOptions(PeerVerifier.AcceptAny));
        using var relay = new TamperingRelay(listener.LocalEndpoint);
        ValueTask<OssuaryStream> accepting = listener.AcceptAsync();
        await using OssuaryStream client = await OssuaryClient.ConnectAsync("127.0.0.1", relay.Port, Loopback.ClientOptions(PeerVerifier.AcceptAny));
        await using var pipe = new OssuaryDuplexPipe(await accepting);

        await client.WriteAsync(new byte[] { 1, 2, 3 });
        ReadResult first = await pipe.Input.ReadAsync();
        Assert.Equal(new byte[] { 1, 2, 3 }, first.Buffer.ToArray());
        pipe.Input.AdvanceTo(first.Buffer.End);

        relay.FlipNextChunk();
        await client.WriteAsync(new byte[] { 4, 5, 6 });
        OssuaryException failure = await Assert.ThrowsAsync<OssuaryException>(async () => await pipe.Input.ReadAsync());
        Assert.Equal(OssuaryErrorCode.AuthenticationFailed, failure.ErrorCode);
    }

    /// <summary>Forwards a TCP connection both ways; on request, flips the last byte of the next chunk from the client.</summary>
    private sealed class TamperingRelay : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private volatile bool _flip;

        public TamperingRelay(IPEndPoint target)
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen();
            _ = Task.Run(async () =>
            {
                using Socket client = await _listener.AcceptAsync();
                using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await server.ConnectAsync(target);
                await Task.WhenAny(PumpAsync(client, server, tamper: true), PumpAsync(server, client, tamper: false));
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public void FlipNextChunk() => _flip = true;

        private async Task PumpAsync(Socket from, Socket to, bool tamper)
        {
            byte[] buffer = new byte[65536];
            int read;
            while ((read = await from.ReceiveAsync(buffer)) > 0)
            {
                if (tamper && _flip)
                {
                    _flip = false;
                    buffer[read - 1] ^= 0x01;
                }
                await to.SendAsync(buffer.AsMemory(0, read));
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public void AnUnauthenticatedStreamIsRefused()
    {
        using var stream = new OssuaryStream(new MemoryStream());
        Assert.Throws<InvalidOperationException>(() => new OssuaryDuplexPipe(stream));
    }
}
