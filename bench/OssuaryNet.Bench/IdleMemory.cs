namespace OssuaryNet.Bench;

/// <summary>
/// Managed memory held per idle established connection: opens N connection pairs over loopback, forces a full
/// collection, and divides the heap growth by the 2N endpoints. Measured twice: with no read pending, and with a
/// read pending on every endpoint (as a server waiting for requests has). Not a BenchmarkDotNet benchmark, because it
/// measures a steady state rather than an operation.
/// </summary>
internal static class IdleMemory
{
    public static async Task RunAsync(int pairs)
    {
        Console.WriteLine($"idle memory per endpoint, {pairs} connection pairs over loopback TCP, bytes of managed heap:");
        Console.WriteLine("| channel | no read pending | read pending |");
        Console.WriteLine("|---|---:|---:|");
        foreach (Channel channel in new[] { Channel.Raw, Channel.Ossuary, Channel.Tls13 })
        {
            // Warm up code paths and pools so their one-time costs are not counted.
            var warm = await Endpoints.Pair(channel, Transport.Loopback);
            await ExchangeOneByteEachWay(warm.Client, warm.Server);
            await warm.Client.DisposeAsync();
            await warm.Server.DisposeAsync();

            long before = Heap();
            var open = new List<(Stream Client, Stream Server)>();
            for (int i = 0; i < pairs; i++)
            {
                var pair = await Endpoints.Pair(channel, Transport.Loopback);
                await ExchangeOneByteEachWay(pair.Client, pair.Server);
                open.Add(pair);
            }
            long idle = Heap();
            var pending = new List<Task<int>>();
            using var stop = new CancellationTokenSource();
            foreach (var (client, server) in open)
            {
                pending.Add(client.ReadAsync(new byte[1], stop.Token).AsTask());
                pending.Add(server.ReadAsync(new byte[1], stop.Token).AsTask());
            }
            await Task.Delay(200);
            // Includes the caller's one-byte buffers and tasks of the pending reads, alike for every channel: compare
            // a channel against the raw row to see its own share.
            long reading = Heap();
            Console.WriteLine($"| {channel} | {(idle - before) / (2 * pairs)} | {(reading - before) / (2 * pairs)} |");
            stop.Cancel();
            foreach (var (client, server) in open)
            {
                await client.DisposeAsync();
                await server.DisposeAsync();
            }
            await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => 0)));
        }
    }

    /// <summary>
    /// Uses the connection once in each direction, as an established connection has been. Without this, the raw row
    /// would be a socket that never did asynchronous I/O, and the caches a socket keeps after its first asynchronous
    /// read and write (two SocketAsyncEventArgs, about 650 B) would be charged to the secure channels, whose
    /// handshakes did I/O.
    /// </summary>
    private static async Task ExchangeOneByteEachWay(Stream client, Stream server)
    {
        byte[] one = [42];
        byte[] received = new byte[1];
        await client.WriteAsync(one);
        await server.ReadExactlyAsync(received);
        await server.WriteAsync(one);
        await client.ReadExactlyAsync(received);
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
