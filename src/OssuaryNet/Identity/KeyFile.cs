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
        byte[] encoded = SecretMemory.Allocate(Begin.Length + End.Length + 48 + 3);
        try
        {
            int length = Encoding.ASCII.GetBytes(Begin + "\n", encoded);
            Base64.EncodeToUtf8(keyPair.PrivateKey, encoded.AsSpan(length), out _, out int written);
            length += written;
            length += Encoding.ASCII.GetBytes("\n" + End + "\n", encoded.AsSpan(length));
            PrivateDirectory.EnsureFor(path); // created 0700 when missing
            // A new file is created 0600 from the start (never briefly world-readable); an overwrite goes through a
            // 0600 temporary file renamed over the old one, so a crash cannot leave a half-written key.
            string target = overwrite ? $"{path}.{Environment.ProcessId}.tmp" : path;
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }
            using (var stream = new FileStream(target, options))
            {
                stream.Write(encoded, 0, length);
                stream.Flush(flushToDisk: true);
            }
            if (overwrite)
            {
                File.Move(target, path, overwrite: true);
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
        }
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
