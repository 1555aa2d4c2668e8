using System.Diagnostics;
using System.Reflection;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>Tests that count the whole process's allocations run alone, after the parallel ones.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class ProcessWideMeasurements
{
    public const string Name = "process-wide measurements";
}

/// <summary>
/// In steady state a read or write through <see cref="OssuaryStream"/> allocates nothing beyond what the socket under
/// it does, even when it has to wait for the peer. Measured against a plain socket pair doing the same round trips in
/// the same test, since the socket layer and the thread pool allocate a little of their own.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public class StreamAllocationTests
{
    private const int RoundTrips = 2000;

    [Fact]
    public async Task WaitingReadsAndWritesAllocateNoMoreThanThePlainSocket()
    {
        // Without optimisation the compiler makes every async state machine a class, allocated on each call, so
        // the property cannot hold; scripts/test.sh runs the tests in Release. Fail rather than pass vacuously.
        bool optimized = typeof(OssuaryStream).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        Assert.True(optimized, "OssuaryNet was built without optimisation (Debug): run this test with -c Release.");

        var (rawClient, rawServer) = await Loopback.RawPair();
        long raw;
        await using (rawClient)
        await using (rawServer)
        {
            raw = await AllocatedPerRoundTrip(rawClient, rawServer);
        }

        var (client, server) = await Loopback.AuthenticatedPair();
        long secure;
        await using (client)
        await using (server)
        {
            secure = await AllocatedPerRoundTrip(client, server);
        }

        // Before the read and write paths used pooled async builders this was about 600 B more per round trip (a
        // state-machine box for each waiting read, on both sides; measured 865 B against 240 B). Now 10-20 B more:
        // the pools' occasional misses. The slack covers those, not a box per read.
        Assert.True(secure <= raw + 128, $"OssuaryStream allocated {secure} B per round trip, the plain socket {raw} B.");
    }

    /// <summary>Bytes allocated by the whole process per 64-byte round trip, after a warm-up.</summary>
    private static async Task<long> AllocatedPerRoundTrip(Stream client, Stream server)
    {
        byte[] request = new byte[64], reply = new byte[64], echo = new byte[64];
        async Task RunAsync(int count)
        {
            Task echoing = EchoAsync(server, echo, count);
            for (int i = 0; i < count; i++)
            {
                await client.WriteAsync(request);
                await ReadExactlyAsync(client, reply);
            }
            await echoing;
        }

        await RunAsync(500).WaitAsync(Loopback.Guard); // tiered compilation, pools, socket caches
        long before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(RoundTrips).WaitAsync(Loopback.Guard);
        return (GC.GetTotalAllocatedBytes(precise: true) - before) / RoundTrips;
    }

    private static async Task EchoAsync(Stream stream, byte[] buffer, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await ReadExactlyAsync(stream, buffer);
            await stream.WriteAsync(buffer);
        }
    }

    private static async ValueTask ReadExactlyAsync(Stream stream, byte[] buffer)
    {
        for (int read = 0; read < buffer.Length;)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read));
            read += n > 0 ? n : throw new EndOfStreamException();
        }
    }
}
