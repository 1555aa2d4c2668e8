using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>
/// Reading and atomically rewriting the line-based trust files (known hosts, authorized keys). A rewrite holds an
/// exclusive lock on <c>FILE.lock</c> (flock on Unix, through FileShare.None) while it reads, changes and
/// renames a temporary file over the original, so concurrent processes never lose each other's entries and a
/// crash never leaves a half-written file.
/// </summary>
/// <remarks>
/// Invariant of the lock file, which is removed after use so that none is left beside the trust file: only the
/// holder of its lock deletes it, before letting go; a waiter that opened it just before may then lock the deleted
/// file, so a lock is taken as held only once the locked file is seen to be still at its path (through
/// /proc/self/fd, on Linux), else the path's new file is locked. Where that cannot be seen, lock files stay.
/// </remarks>
internal static class TrustFile
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The non-blank, non-comment lines of a file with their line numbers; none when the file does not exist.</summary>
    public static IEnumerable<(int Number, string Line)> ReadEntries(string path)
    {
        string[] lines;
        try
        {
            if (!HasContent(path))
            {
                return [];
            }
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException and not OssuaryException or UnauthorizedAccessException)
        {
            throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"Cannot read '{path}': {e.Message}", e);
        }
        return lines
            .Select((line, index) => (Number: index + 1, Line: line.Trim()))
            .Where(entry => entry.Line.Length > 0 && !entry.Line.StartsWith('#'))
            .ToArray();
    }

    /// <summary>Under the file's lock, reads all lines, lets <paramref name="change"/> edit them, and writes the result atomically if it returns true.</summary>
    public static T Update<T>(string path, Func<List<string>, (bool Changed, T Result)> change)
    {
        try
        {
            PrivateDirectory.EnsureFor(path); // created 0700 when missing
            string lockPath = path + ".lock";
            using FileStream lockFile = AcquireLock(lockPath);
            try
            {
                var lines = HasContent(path) ? File.ReadAllLines(path).ToList() : [];
                (bool changed, T result) = change(lines);
                if (changed)
                {
                    string temporary = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
                    File.WriteAllLines(temporary, lines);
                    File.Move(temporary, path, overwrite: true);
                }
                return result;
            }
            finally
            {
                if (LockFilesAreRemoved)
                {
                    File.Delete(lockPath); // still holding it: see the remarks
                }
            }
        }
        catch (Exception e) when (e is IOException and not OssuaryException or UnauthorizedAccessException)
        {
            throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"Cannot update '{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether the file exists with something in it. FIFOs, sockets and devices report a size of 0, so they count as
    /// empty and are never opened: opening a FIFO with no writer would block forever.
    /// </summary>
    private static bool HasContent(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && info.Length > 0;
    }

    /// <summary>Whether a locked file can be seen to have been deleted (Linux's /proc), which removing lock files needs.</summary>
    private static readonly bool LockFilesAreRemoved = OperatingSystem.IsLinux() && Directory.Exists("/proc/self/fd");

    private static FileStream AcquireLock(string lockPath)
    {
        DateTime deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            FileStream held;
            try
            {
                held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
                continue;
            }
            if (!LockFilesAreRemoved || !IsDeleted(held))
            {
                return held;
            }
            held.Dispose(); // its holder removed it as this one opened it: lock the file now at the path
        }
    }

    /// <summary>Whether the open file is no longer at any path: Linux shows its descriptor's link as "PATH (deleted)".</summary>
    private static bool IsDeleted(FileStream file) =>
        new FileInfo($"/proc/self/fd/{file.SafeFileHandle.DangerousGetHandle()}").LinkTarget?.EndsWith(" (deleted)", StringComparison.Ordinal) ?? false;
}
