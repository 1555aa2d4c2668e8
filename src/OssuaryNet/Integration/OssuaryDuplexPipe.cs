using System.IO.Pipelines;

namespace OssuaryNet;

/// <summary>
/// An authenticated <see cref="OssuaryStream"/> seen as an <see cref="IDuplexPipe"/> (System.IO.Pipelines), for code
/// that parses its frames from a <see cref="PipeReader"/> and writes into a <see cref="PipeWriter"/>.
/// </summary>
/// <remarks>
/// <para>Completing <see cref="Output"/> sends nothing by itself; <see cref="DisposeAsync"/> completes both pipes,
/// sends the authenticated close (<see cref="OssuaryStream.ShutdownAsync"/>) unless the connection has failed, and
/// disposes the stream unless it was to be left open. A failure of the connection (a tampered record, a close that was
/// cut off) surfaces from <see cref="PipeReader.ReadAsync"/> and <see cref="PipeWriter.FlushAsync"/> as the
/// <see cref="OssuaryException"/> the stream threw; a peer's authenticated close ends <see cref="Input"/>.</para>
/// <para>The pipes follow the stream's concurrency rule: one reader and one writer at a time, which is what the pipe
/// contract asks of their users anyway.</para>
/// </remarks>
public sealed class OssuaryDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly OssuaryStream _stream;
    private readonly bool _leaveStreamOpen;
    private int _disposed;

    /// <summary>Wraps an authenticated stream.</summary>
    /// <param name="stream">The stream; it must have completed its handshake.</param>
    /// <param name="leaveStreamOpen">Leave the stream open (and unclosed) when the pipe is disposed.</param>
    /// <param name="readerOptions">Buffer sizes and pool of <see cref="Input"/>; its leave-open setting is ignored.</param>
    /// <param name="writerOptions">Buffer sizes and pool of <see cref="Output"/>; its leave-open setting is ignored.</param>
    /// <exception cref="InvalidOperationException">The stream has not authenticated.</exception>
    public OssuaryDuplexPipe(OssuaryStream stream, bool leaveStreamOpen = false,
        StreamPipeReaderOptions? readerOptions = null, StreamPipeWriterOptions? writerOptions = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.IsAuthenticated)
        {
            throw new InvalidOperationException("Authenticate the stream before reading or writing it through pipes.");
        }
        _stream = stream;
        _leaveStreamOpen = leaveStreamOpen;
        // The pipes never dispose the stream themselves: disposal decides whether a close is sent first.
        Input = PipeReader.Create(stream, readerOptions is null
            ? new StreamPipeReaderOptions(leaveOpen: true)
            : new StreamPipeReaderOptions(readerOptions.Pool, readerOptions.BufferSize, readerOptions.MinimumReadSize, leaveOpen: true, readerOptions.UseZeroByteReads));
        Output = PipeWriter.Create(stream, writerOptions is null
            ? new StreamPipeWriterOptions(leaveOpen: true)
            : new StreamPipeWriterOptions(writerOptions.Pool, writerOptions.MinimumBufferSize, leaveOpen: true));
    }

    /// <summary>Plaintext received from the peer.</summary>
    public PipeReader Input { get; }

    /// <summary>Plaintext to send to the peer; <see cref="PipeWriter.FlushAsync"/> seals and sends it.</summary>
    public PipeWriter Output { get; }

    /// <summary>The stream under the pipes.</summary>
    public OssuaryStream Stream => _stream;

    /// <summary>Completes both pipes, closes the connection cleanly where it can and disposes the stream unless asked not to.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await Input.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false); // flushes what was written and not yet flushed
            if (!_leaveStreamOpen && _stream.CanWrite)
            {
                await _stream.ShutdownAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
            // The connection failed or the transport is gone: there is no clean close to send, and disposal goes on.
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (!_leaveStreamOpen)
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
