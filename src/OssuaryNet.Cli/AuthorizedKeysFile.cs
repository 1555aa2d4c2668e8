using OssuaryNet.Protocol;
using OssuaryNet.Trust;

namespace OssuaryNet.Cli;

/// <summary>
/// The --authorized-keys file of a serving verb (receive, serve, udp-serve), checked when the verb starts, as sshd
/// checks its own: a file that is missing, unreadable, a directory, without a single key, or that someone other than
/// its owner may write (the file, or the directory holding it) is refused with one line naming it (exit code 6).
/// Started with such a file, a server would refuse every client, or accept whoever wrote a key into it.
/// </summary>
internal static class AuthorizedKeysFile
{
    private const UnixFileMode WritableByOthers = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    public static AuthorizedKeys Load(string path)
    {
        string shown = PrintableText.Escape(path);
        if (Directory.Exists(path))
        {
            throw Invalid($"'{shown}' is a directory: --authorized-keys takes a file of client keys, one per line.");
        }
        if (!File.Exists(path))
        {
            throw Invalid($"'{shown}' does not exist, so the server would refuse every client; add a key to it with: ossuary authorized-keys add KEY --file '{shown}'");
        }
        if (!OperatingSystem.IsWindows())
        {
            CheckNobodyElseCanWrite(path, shown);
        }
        try
        {
            // FIFOs and devices have no length: never opened (a FIFO without a writer would block), they authorize no key below.
            if (new FileInfo(path).Length > 0)
            {
                File.OpenRead(path).Dispose(); // readable; parsing reports a malformed line with its number
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Invalid($"Cannot read '{shown}': {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}.");
        }
        AuthorizedKeys keys = AuthorizedKeys.Load(path);
        return keys.Keys.Count > 0
            ? keys
            : throw Invalid($"'{shown}' authorizes no key (it is empty, only comments, or not a regular file), so the server would refuse every client; add one with: ossuary authorized-keys add KEY --file '{shown}'");
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void CheckNobodyElseCanWrite(string path, string shown)
    {
        if ((File.GetUnixFileMode(path) & WritableByOthers) != 0)
        {
            throw Unsafe($"'{shown}' is writable by its group or by others, who could authorize their own keys: refusing it, as sshd does (fix: chmod go-w '{shown}').");
        }
        // Others who may write in the directory may replace the file, unless the directory is sticky (as /tmp is).
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        UnixFileMode mode = File.GetUnixFileMode(directory);
        if ((mode & WritableByOthers) != 0 && (mode & UnixFileMode.StickyBit) == 0)
        {
            string shownDirectory = PrintableText.Escape(directory);
            throw Unsafe($"'{shownDirectory}', which holds '{shown}', is writable by its group or by others, who could replace the file: refusing it, as sshd does (fix: chmod go-w '{shownDirectory}').");
        }
    }

    private static OssuaryException Invalid(string message) => new(OssuaryErrorCode.KeyFileInvalid, message);

    private static OssuaryException Unsafe(string message) => new(OssuaryErrorCode.KeyFilePermissions, message);
}
