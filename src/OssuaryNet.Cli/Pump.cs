using System.Net.Sockets;

namespace OssuaryNet.Cli;

/// <summary>Copies both directions between two endpoints with proper half-close, until both directions have ended.</summary>
internal static class Pump
{
    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> until the source ends, then closes only the
    /// destination's write direction (the authenticated close, or a TCP FIN), so the other direction keeps flowing.
    /// </summary>
    public static async Task<long> OneWayAsync(Stream source, Stream destination, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            total += read;
        }
        await CloseWriteAsync(destination);
        return total;
    }

    /// <summary>Runs both directions; if one fails, the other is cancelled and the failure is rethrown.</summary>
    public static async Task<(long AToB, long BToA)> BothWaysAsync(Stream a, Stream b, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<long> aToB = Guard(OneWayAsync(a, b, failed.Token), failed);
        Task<long> bToA = Guard(OneWayAsync(b, a, failed.Token), failed);
        try
        {
            await Task.WhenAll(aToB, bToA);
        }
        catch
        {
            // Report the direction that failed, not the one cancelled because of it.
            Exception first = new[] { aToB, bToA }
                .Where(t => t.IsFaulted)
                .Select(t => t.Exception!.InnerException!)
                .OrderBy(e => e is OperationCanceledException)
                .First();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
        return (aToB.Result, bToA.Result);
    }

    private static async Task<long> Guard(Task<long> direction, CancellationTokenSource failed)
    {
        try
        {
            return await direction;
        }
        catch
        {
            failed.Cancel();
            throw;
        }
    }

    public static async Task CloseWriteAsync(Stream stream)
    {
        switch (stream)
        {
            case OssuaryStream secure:
                await secure.ShutdownAsync();
                break;
            case NetworkStream network:
                network.Socket.Shutdown(SocketShutdown.Send);
                break;
            default:
                await stream.FlushAsync();
                break;
        }
    }
}
