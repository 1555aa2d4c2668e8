using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using OssuaryNet.Crypto;

namespace OssuaryNet.Identity;

/// <summary>
/// Private key files: a PEM-style text block holding the 32-byte key in base64, created with mode 0600 and
/// refused when group or others can read or write it (as ssh does). The public key goes beside it in
/// <c>NAME.pub</c> as one line "BASE64 fingerprint". Secret bytes are parsed from a byte buffer that is then
/// wiped, never from a string, because strings cannot be wiped.
/// </summary>
internal static class KeyFile
{
    private const string Begin = "-----BEGIN OSSUARY PRIVATE KEY-----";
    private const string End = "-----END OSSUARY PRIVATE KEY-----";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>A key file is a few hundred bytes; anything far larger is not one.</summary>
    private const long MaxKeyFileBytes = 64 * 1024;

    public static OssuaryKeyPair LoadPrivateKey(string path)
    {
        CheckPermissions(path);
        byte[] content;
        try
        {
            // FIFOs, sockets and devices report a size of 0: refusing them before opening keeps a FIFO from blocking
            // the open forever (no writer ever comes) and a device from being read without end.
            long length = new FileInfo(path).Length;
            if (length is 0 or > MaxKeyFileBytes)
            {
                throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid,
                    $"'{path}' is not a private key file: it is {(length == 0 ? "empty, or not a regular file (a FIFO or a device?)" : $"{length} bytes long")}.");
            }
            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException and not OssuaryException or UnauthorizedAccessException)
        {
            throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"Cannot read private key file '{path}': {e.Message}", e);
        }
        byte[] key = SecretMemory.Allocate(X25519.KeySize + 2);
        try
        {
            ReadOnlySpan<byte> text = content;
            int begin = text.IndexOf(Encoding.ASCII.GetBytes(Begin));
            int end = text.IndexOf(Encoding.ASCII.GetBytes(End));
            if (begin < 0 || end < begin)
            {
                throw Invalid(path);
            }
            ReadOnlySpan<byte> body = text[(begin + Begin.Length)..end].Trim("\r\n \t"u8);
            if (Base64.DecodeFromUtf8(body, key, out _, out int written) != System.Buffers.OperationStatus.Done || written != X25519.KeySize)
            {
                throw Invalid(path);
            }
            return OssuaryKeyPair.FromPrivateKey(key.AsSpan(0, X25519.KeySize));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
            CryptographicOperations.ZeroMemory(key);
        }
    }

    public static void SavePrivateKey(OssuaryKeyPair keyPair, string path, bool overwrite)
    {
        string? temporary = null;
        byte[] encoded = SecretMemory.Allocate(Begin.Length + End.Length + 48 + 3);
        try
        {
            int length = Encoding.ASCII.GetBytes(Begin + "\n", encoded);
            Base64.EncodeToUtf8(keyPair.PrivateKey, encoded.AsSpan(length), out _, out int written);
            length += written;
            length += Encoding.ASCII.GetBytes("\n" + End + "\n", encoded.AsSpan(length));
            PrivateDirectory.EnsureFor(path); // created 0700 when missing
            // The key is written to a 0600 temporary file beside the target (never briefly world-readable) and put in
            // place whole, so no reader ever sees a half-written key. An overwrite renames over the old file; otherwise
            // the file is linked in only if nothing is at the path yet (link(2) fails on an existing name), so of two
            // creators racing for one path exactly one succeeds and the other learns that the file exists.
            temporary = $"{path}.{Path.GetRandomFileName()}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(encoded, 0, length);
                stream.Flush(flushToDisk: true);
            }
            if (overwrite)
            {
                File.Move(temporary, path, overwrite: true);
                temporary = null;
            }
            else if (!Interop.NoReplaceLink.TryLink(temporary, path))
            {
                throw new IOException($"'{path}' exists.");
            }
            File.WriteAllText(path + ".pub", $"{keyPair.PublicKey} {keyPair.PublicKey.Fingerprint}\n");
        }
        catch (IOException e) when (!overwrite && File.Exists(path))
        {
            throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"Key file '{path}' already exists; refusing to overwrite it.", e);
        }
        catch (Exception e) when (e is IOException and not OssuaryException or UnauthorizedAccessException)
        {
            throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"Cannot write key file '{path}': {e.Message}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encoded);
            if (temporary is not null)
            {
                File.Delete(temporary); // linked in, or not put in place at all: either way no second copy stays behind
            }
        }
    }

    /// <summary>
    /// Loads the key file at <paramref name="path"/>, first creating it with a new key pair when nothing is there.
    /// A concurrent creator (another thread or process) that wins the race is not an error: its key is loaded.
    /// </summary>
    public static OssuaryKeyPair LoadOrCreate(string path, out bool created)
    {
        created = false;
        if (!File.Exists(path))
        {
            using OssuaryKeyPair generated = OssuaryKeyPair.Generate();
            try
            {
                SavePrivateKey(generated, path, overwrite: false);
                created = true;
            }
            catch (OssuaryException) when (File.Exists(path))
            {
                // Someone else created it between the check and the move: theirs is the key.
            }
        }
        return LoadPrivateKey(path);
    }

    private static void CheckPermissions(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        UnixFileMode mode;
        try
        {
            mode = File.GetUnixFileMode(path);
        }
        catch (Exception e) when (e is IOException and not OssuaryException or UnauthorizedAccessException)
        {
            throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"Cannot read private key file '{path}': {e.Message}", e);
        }
        if ((mode & GroupOrOthers) != 0)
        {
            throw new OssuaryException(
                OssuaryErrorCode.KeyFilePermissions,
                $"Private key file '{path}' is accessible by group or others (mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}); refusing to use it. Run: chmod 600 '{path}'");
        }
    }

    private static OssuaryException Invalid(string path) =>
        new(OssuaryErrorCode.KeyFileInvalid, $"'{path}' is not an OssuaryNet private key file.");
}
