using BenchmarkDotNet.Attributes;

namespace OssuaryNet.Bench;

/// <summary>
/// Bulk throughput of one connection (16 MiB per operation in 16 KiB writes, one direction, the peer draining), the
/// same in both directions at once, and 64-byte ping-pong round trips, for a raw stream, OssuaryStream (both suites) and SslStream (TLS 1.3, default suite, ECDSA P-256),
/// over loopback TCP and an in-memory duplex pipe.
/// </summary>
[MemoryDiagnoser]
public class StreamBenchmarks
{
    private const int WriteSize = 16 * 1024;
    private const int BulkBytes = 16 << 20;
    private const int RoundTrips = 200;

    private Stream _client = null!, _server = null!;
    private readonly byte[] _chunk = new byte[WriteSize];
    private readonly byte[] _drain = new byte[64 * 1024];
    private readonly byte[] _serverChunk = new byte[WriteSize];
    private readonly byte[] _serverDrain = new byte[64 * 1024];
    private readonly byte[] _small = new byte[64];
    private readonly byte[] _smallReply = new byte[64];

    [Params(Transport.Loopback, Transport.Memory)]
    public Transport Transport { get; set; }

    [Params(Channel.Raw, Channel.Ossuary, Channel.OssuaryAesGcm, Channel.Tls13)]
    public Channel Channel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_client, _server) = Endpoints.Pair(Channel, Transport).GetAwaiter().GetResult();
        new Random(1).NextBytes(_chunk);
        new Random(2).NextBytes(_serverChunk);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
    }

    /// <summary>16 MiB from client to server in 16 KiB writes; the server drains concurrently.</summary>
    [Benchmark]
    public async Task<long> Bulk16MiB()
    {
        Task<long> drain = DrainAsync(_server, BulkBytes);
        for (int sent = 0; sent < BulkBytes; sent += WriteSize)
        {
            await _client.WriteAsync(_chunk);
        }
        return await drain;
    }

    /// <summary>
    /// Full duplex: 16 MiB each way at once, in 16 KiB writes, each side draining what the other sends. For
    /// OssuaryStream the reader opens records while the writer seals them, on both cores.
    /// </summary>
    [Benchmark]
    public async Task<long> Duplex16MiBEachWay()
    {
        Task<long> serverDrain = DrainAsync(_server, BulkBytes, _serverDrain);
        Task<long> clientDrain = DrainAsync(_client, BulkBytes, _drain);
        Task serverWrites = WriteAllAsync(_server, _serverChunk);
        await WriteAllAsync(_client, _chunk);
        await serverWrites;
        return await serverDrain + await clientDrain;
    }

    private static async Task WriteAllAsync(Stream stream, byte[] chunk)
    {
        for (int sent = 0; sent < BulkBytes; sent += WriteSize)
        {
            await stream.WriteAsync(chunk);
        }
    }

    private Task<long> DrainAsync(Stream stream, long expected) => DrainAsync(stream, expected, _drain);

    private static async Task<long> DrainAsync(Stream stream, long expected, byte[] buffer)
    {
        long received = 0;
        while (received < expected)
        {
            int read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                throw new EndOfStreamException();
            }
            received += read;
        }
        return received;
    }

    /// <summary>200 round trips of a 64-byte message, client to server and back.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public async Task PingPong64B()
    {
        Task echo = EchoAsync();
        for (int i = 0; i < RoundTrips; i++)
        {
            await _client.WriteAsync(_small);
            await ReadExactlyAsync(_client, _smallReply);
        }
        await echo;
    }

    private async Task EchoAsync()
    {
        byte[] buffer = new byte[64];
        for (int i = 0; i < RoundTrips; i++)
        {
            await ReadExactlyAsync(_server, buffer);
            await _server.WriteAsync(buffer);
        }
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read));
            if (n == 0)
            {
                throw new EndOfStreamException();
            }
            read += n;
        }
    }
}
