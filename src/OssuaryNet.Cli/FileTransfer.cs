using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>
/// The one-off file transfer of `ossuary send` / `ossuary receive` (application protocol "ossuary-file/2"):
/// sender → receiver: "OSYF" | u16 name length | name (UTF-8) | u64 size; receiver → sender: one status byte, 4 (go
/// ahead) or a refusal (2 refused, 3 cannot be stored) followed by the close; after the go-ahead, sender → receiver:
/// content | SHA-256(content), then the authenticated close; receiver → sender: one status byte (0 stored, 1 integrity
/// failure, 3 could not be stored), then close. The sender sends no content before the go-ahead, so a refusal (an
/// existing file, a hostile name) or a rejected key reaches it whatever the file's size, never a reset in the middle of
/// the content. Version 1 streamed the content at once; the protocol name changed with the go-ahead.
/// The receiver writes into a temporary file and renames it to the final name only after the size, the hash and the
/// sender's authenticated close have all been checked, so an interrupted transfer never leaves a final file. The
/// temporary name has a fixed length (".ossuary-" + 12 hex digits + ".partial"), so every name the file system accepts
/// (up to 255 bytes) can be received.
/// </summary>
internal static class FileTransfer
{
    public const string Protocol = "ossuary-file/2";
    private static ReadOnlySpan<byte> Magic => "OSYF"u8;
    private const byte Stored = 0, IntegrityFailure = 1, Refused = 2, CannotStore = 3, GoAhead = 4;

    /// <summary>The longest name most file systems accept (NAME_MAX), in UTF-8 bytes.</summary>
    private const int MaxNameBytes = 255;

    /// <summary>Sends the file at <paramref name="path"/> to the receiver at <paramref name="receiver"/> (its name, for messages).</summary>
    public static async Task SendAsync(OssuaryStream stream, string path, string receiver, Action<long> progress, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        byte[] name = Encoding.UTF8.GetBytes(Path.GetFileName(path));
        byte[] header = new byte[4 + 2 + name.Length + 8];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), (ushort)name.Length);
        name.CopyTo(header, 6);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(6 + name.Length), file.Length);
        await stream.WriteAsync(header, cancellationToken);
        byte[] status = new byte[1];
        if (await stream.ReadAsync(status, cancellationToken) != 1)
        {
            throw new TransferException("The receiver closed without answering the offer.");
        }
        if (status[0] != GoAhead)
        {
            throw Failure(status[0]);
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 18];
        long sent = 0;
        try
        {
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
                progress(sent);
            }
            await stream.WriteAsync(hash.GetHashAndReset(), cancellationToken);
            await stream.ShutdownAsync(cancellationToken);
        }
        catch (IOException e) when (e is not OssuaryException || e is OssuaryException { ErrorCode: OssuaryErrorCode.Truncated })
        {
            // A broken pipe or a reset: the receiver went away (interrupted, killed, its machine gone).
            throw new TransferException($"{receiver} closed the connection at {TransferAmount.Of(sent, file.Length)}: the file was not delivered.", e);
        }

        int answered;
        try
        {
            answered = await stream.ReadAsync(status, cancellationToken);
        }
        catch (IOException e) when (e is not OssuaryException || e is OssuaryException { ErrorCode: OssuaryErrorCode.Truncated })
        {
            throw new TransferException($"{receiver} closed the connection after the whole file was sent, without confirming it: it may not have been stored.", e);
        }
        if (answered != 1)
        {
            throw new TransferException("The receiver closed without confirming the transfer.");
        }
        if (status[0] != Stored)
        {
            throw Failure(status[0]);
        }
    }

    private static TransferException Failure(byte status) => status switch
    {
        IntegrityFailure => new TransferException("The receiver found the file corrupted (hash or size mismatch) and discarded it."),
        CannotStore => new TransferException("The receiver could not store the file (its destination is not writable or is full)."),
        Refused => new TransferException("The receiver refused the file (it exists there already, or its name is not acceptable)."),
        _ => new TransferException($"The receiver answered with status {status}, which this version does not know."),
    };

    /// <summary>What the sender announced (the name checked by <see cref="CheckName"/>), and the temporary file it goes into.</summary>
    public sealed record Offer(string Name, long Size, string TemporaryPath);

    /// <summary>
    /// Reads the sender's header, refuses (answering the sender) a bad name or an existing file, and creates the
    /// temporary file, so that a destination that cannot be written is reported before any content is stored.
    /// </summary>
    public static async Task<Offer> ReadOfferAsync(OssuaryStream stream, string directory, bool overwrite, bool allowHidden, CancellationToken cancellationToken)
    {
        byte[] fixedPart = new byte[6];
        await stream.ReadExactlyAsync(fixedPart, cancellationToken);
        if (!fixedPart.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new TransferException("The sender does not speak the ossuary file transfer protocol.");
        }
        byte[] nameBytes = new byte[BinaryPrimitives.ReadUInt16BigEndian(fixedPart.AsSpan(4))];
        await stream.ReadExactlyAsync(nameBytes, cancellationToken);
        byte[] sizeBytes = new byte[8];
        await stream.ReadExactlyAsync(sizeBytes, cancellationToken);
        long size = BinaryPrimitives.ReadInt64BigEndian(sizeBytes);
        string? problem = size < 0 ? "its size is negative" : CheckName(nameBytes, allowHidden);
        if (problem is not null)
        {
            await RespondAsync(stream, Refused, cancellationToken);
            throw new TransferException($"Refused the offered file: {problem}.");
        }
        string name = Encoding.UTF8.GetString(nameBytes);
        string final = Path.Combine(directory, name);
        if (File.Exists(final) && !overwrite)
        {
            await RespondAsync(stream, Refused, cancellationToken);
            throw new TransferException($"'{final}' exists; refusing to overwrite it (use --force).");
        }
        string temporary = Path.Combine(directory, $".ossuary-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.partial");
        try
        {
            Directory.CreateDirectory(directory);
            new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await RespondAsync(stream, CannotStore, cancellationToken);
            throw new TransferException($"Cannot store a file in '{directory}': {e.Message}");
        }
        try
        {
            await stream.WriteAsync(new[] { GoAhead }, cancellationToken);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        return new Offer(name, size, temporary);
    }

    /// <summary>
    /// Why a name the sender offered is not acceptable, or null. A name is one path component of at most 255 bytes of
    /// UTF-8, with no control or format characters (nothing that could drive a terminal or forge a log line when
    /// printed), and not hidden (a leading dot) unless <paramref name="allowHidden"/>.
    /// </summary>
    public static string? CheckName(ReadOnlySpan<byte> nameBytes, bool allowHidden)
    {
        if (nameBytes.Length is 0 or > MaxNameBytes)
        {
            return $"its name is {nameBytes.Length} bytes long (1 to {MaxNameBytes} are accepted)";
        }
        string name;
        try
        {
            name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(nameBytes);
        }
        catch (DecoderFallbackException)
        {
            return "its name is not UTF-8";
        }
        if (name.Any(PrintableText.IsUnsafe))
        {
            return $"its name '{PrintableText.Escape(name)}' contains control or format characters";
        }
        if (name is "." or ".." || name.IndexOfAny(['/', '\\']) >= 0)
        {
            return $"its name '{name}' is not a plain file name";
        }
        if (name.StartsWith('.') && !allowHidden)
        {
            return $"its name '{name}' is hidden (starts with a dot; --allow-hidden accepts it)";
        }
        return null;
    }

    /// <summary>Receives the announced file into <paramref name="directory"/>; returns the final path.</summary>
    public static async Task<string> ReceiveAsync(OssuaryStream stream, Offer offer, string directory, bool overwrite, Action<long> progress, CancellationToken cancellationToken)
    {
        (string name, long size, string temporary) = offer;
        string final = Path.Combine(directory, name);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            FileStream file = await StoreAsync(stream, final, () => Task.FromResult(
                new FileStream(temporary, FileMode.Open, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true)), cancellationToken);
            await using (file)
            {
                byte[] buffer = new byte[1 << 18];
                long remaining = size;
                while (remaining > 0)
                {
                    int read;
                    try
                    {
                        read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                    }
                    catch (IOException e) when (e is not OssuaryException || e is OssuaryException { ErrorCode: OssuaryErrorCode.Truncated })
                    {
                        // The sender went away without its close (interrupted, killed, the network gone). A truncation
                        // stays one (exit code 3: an attacker can cut a stream too), said in the transfer's words.
                        string message = $"The connection from the sender ({stream.RemotePublicKey!.Fingerprint}) ended at {TransferAmount.Of(size - remaining, size)}: {name} was not stored.";
                        throw e is OssuaryException ? new OssuaryException(OssuaryErrorCode.Truncated, message, e) : new IOException(message, e);
                    }
                    if (read == 0)
                    {
                        throw new TransferException($"The sender closed after {TransferAmount.Of(size - remaining, size)}: {name} was not stored.");
                    }
                    hash.AppendData(buffer, 0, read);
                    await StoreAsync(stream, final, async () => { await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken); return true; }, cancellationToken);
                    remaining -= read;
                    progress(size - remaining);
                }
                await StoreAsync(stream, final, () => { file.Flush(flushToDisk: true); return Task.FromResult(true); }, cancellationToken);
            }
            byte[] expected = new byte[32];
            await stream.ReadExactlyAsync(expected, cancellationToken);
            // Nothing may follow the hash but the sender's authenticated close.
            if (await stream.ReadAsync(new byte[1], cancellationToken) != 0 || !CryptographicOperations.FixedTimeEquals(expected, hash.GetHashAndReset()))
            {
                await RespondAsync(stream, IntegrityFailure, cancellationToken);
                throw new TransferException("The received file does not match the sender's hash; it was discarded.");
            }
            await StoreAsync(stream, final, () => { File.Move(temporary, final, overwrite); return Task.FromResult(true); }, cancellationToken);
            await RespondAsync(stream, Stored, cancellationToken);
            return final;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>
    /// Runs one file-system step of storing the file; if the file system fails it (disk full, not writable, not a
    /// directory), tells the sender the file could not be stored and fails the transfer with the reason.
    /// </summary>
    private static async Task<T> StoreAsync<T>(OssuaryStream stream, string final, Func<Task<T>> step, CancellationToken cancellationToken)
    {
        try
        {
            return await step();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await RespondAsync(stream, CannotStore, cancellationToken);
            throw new TransferException($"Cannot store '{final}': {e.Message}");
        }
    }

    /// <summary>
    /// Sends the status and the authenticated close. After a refusal the sender may still be sending content; the
    /// rest is read and discarded until the sender closes (for at most 5 s), because closing a socket with unread
    /// input makes the kernel reset the connection, and the reset would destroy the status before the sender reads it.
    /// </summary>
    private static async Task RespondAsync(OssuaryStream stream, byte status, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteAsync(new[] { status }, cancellationToken);
            await stream.ShutdownAsync(cancellationToken);
            if (status is Refused or CannotStore)
            {
                using var linger = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                linger.CancelAfter(TimeSpan.FromSeconds(5));
                byte[] discard = new byte[1 << 16];
                while (await stream.ReadAsync(discard, linger.Token) > 0)
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or OssuaryException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // The sender may already be gone, or may not close in time; the local outcome stands.
        }
    }
}
