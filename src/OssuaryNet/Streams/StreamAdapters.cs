namespace OssuaryNet.Streams;

/// <summary>
/// How the stream wrapper performs I/O on the inner stream. The read, write and handshake loops are written once,
/// generic over this interface; the sync adapter calls the blocking methods and returns completed tasks, so the
/// sync API never blocks on an async one.
/// </summary>
internal interface IStreamAdapter
{
    static abstract bool IsAsync { get; }
    static abstract ValueTask<int> ReadAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken);
    static abstract ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken);
    static abstract ValueTask FlushAsync(Stream stream, CancellationToken cancellationToken);
    static abstract ValueTask WaitAsync(SemaphoreSlim semaphore, CancellationToken cancellationToken);
}

internal readonly struct AsyncStreamAdapter : IStreamAdapter
{
    public static bool IsAsync => true;
    public static ValueTask<int> ReadAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken) => stream.ReadAsync(buffer, cancellationToken);
    public static ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => stream.WriteAsync(buffer, cancellationToken);
    public static ValueTask FlushAsync(Stream stream, CancellationToken cancellationToken) => new(stream.FlushAsync(cancellationToken));
    public static ValueTask WaitAsync(SemaphoreSlim semaphore, CancellationToken cancellationToken) => new(semaphore.WaitAsync(cancellationToken));
}

internal readonly struct SyncStreamAdapter : IStreamAdapter
{
    public static bool IsAsync => false;

    public static ValueTask<int> ReadAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new(stream.Read(buffer.Span));
    }

    public static ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        stream.Write(buffer.Span);
        return default;
    }

    public static ValueTask FlushAsync(Stream stream, CancellationToken cancellationToken)
    {
        stream.Flush();
        return default;
    }

    public static ValueTask WaitAsync(SemaphoreSlim semaphore, CancellationToken cancellationToken)
    {
        semaphore.Wait(cancellationToken);
        return default;
    }
}
