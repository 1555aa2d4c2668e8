using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace OssuaryNet.Cli;

/// <summary>
/// The one-off file transfer of `ossuary send` / `ossuary receive` (application protocol "ossuary-file/1"):
/// sender → receiver: "OSYF" | u16 name length | name (UTF-8) | u64 size | content | SHA-256(content), then the
/// authenticated close; receiver → sender: one status byte (0 stored, 1 integrity failure, 2 refused), then close.
/// The receiver writes into a temporary file and renames it to the final name only after the size, the hash and
/// the sender's authenticated close have all been checked, so an interrupted transfer never leaves a final file.
/// </summary>
internal static class FileTransfer
{
    public const string Protocol = "ossuary-file/1";
    private static ReadOnlySpan<byte> Magic => "OSYF"u8;
    private const byte Stored = 0, IntegrityFailure = 1, Refused = 2;

    public static async Task SendAsync(OssuaryStream stream, string path, Action<long> progress, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        byte[] name = Encoding.UTF8.GetBytes(Path.GetFileName(path));
        byte[] header = new byte[4 + 2 + name.Length + 8];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), (ushort)name.Length);
        name.CopyTo(header, 6);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(6 + name.Length), file.Length);
        await stream.WriteAsync(header, cancellationToken);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[1 << 18];
        long sent = 0;
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

        byte[] status = new byte[1];
        if (await stream.ReadAsync(status, cancellationToken) != 1)
        {
            throw new TransferException("The receiver closed without confirming the transfer.");
        }
        switch (status[0])
        {
            case Stored:
                return;
            case IntegrityFailure:
                throw new TransferException("The receiver found the file corrupted (hash or size mismatch) and discarded it.");
            default:
                throw new TransferException("The receiver refused the file (it exists there already, or its name is not acceptable).");
        }
    }

    /// <summary>What the sender announced: the file's name (checked: no directories) and size.</summary>
    public readonly record struct Offer(string Name, long Size);

    /// <summary>Reads the sender's header and refuses (answering the sender) a bad name or an existing file.</summary>
    public static async Task<Offer> ReadOfferAsync(OssuaryStream stream, string directory, bool overwrite, CancellationToken cancellationToken)
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
        string name = Encoding.UTF8.GetString(nameBytes);
        if (size < 0 || name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            await RespondAsync(stream, Refused, cancellationToken);
            throw new TransferException("Refused a file with an unacceptable name or size.");
        }
        string final = Path.Combine(directory, name);
        if (File.Exists(final) && !overwrite)
        {
            await RespondAsync(stream, Refused, cancellationToken);
            throw new TransferException($"'{final}' exists; refusing to overwrite it (use --force).");
        }
        return new Offer(name, size);
    }

    /// <summary>Receives the announced file into <paramref name="directory"/>; returns the final path.</summary>
    public static async Task<string> ReceiveAsync(OssuaryStream stream, Offer offer, string directory, bool overwrite, Action<long> progress, CancellationToken cancellationToken)
    {
        (string name, long size) = offer;
        string final = Path.Combine(directory, name);
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{name}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.partial");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                byte[] buffer = new byte[1 << 18];
                long remaining = size;
                while (remaining > 0)
                {
                    int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken);
                    if (read == 0)
                    {
                        throw new TransferException($"The sender closed after {size - remaining:N0} of {size:N0} bytes.");
                    }
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    remaining -= read;
                    progress(size - remaining);
                }
                file.Flush(flushToDisk: true);
            }
            byte[] expected = new byte[32];
            await stream.ReadExactlyAsync(expected, cancellationToken);
            // Nothing may follow the hash but the sender's authenticated close.
            if (await stream.ReadAsync(new byte[1], cancellationToken) != 0 || !CryptographicOperations.FixedTimeEquals(expected, hash.GetHashAndReset()))
            {
                await RespondAsync(stream, IntegrityFailure, cancellationToken);
                throw new TransferException("The received file does not match the sender's hash; it was discarded.");
            }
            File.Move(temporary, final, overwrite);
            await RespondAsync(stream, Stored, cancellationToken);
            return final;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static async Task RespondAsync(OssuaryStream stream, byte status, CancellationToken cancellationToken)
    {
        try
        {
            await stream.WriteAsync(new[] { status }, cancellationToken);
            await stream.ShutdownAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or OssuaryException)
        {
            // The sender may already be gone; the local outcome stands.
        }
    }
}
