using System.Runtime.InteropServices;

namespace OssuaryNet.Interop;

/// <summary>
/// Puts a finished file at a new name only if nothing has that name yet, atomically: <c>link(2)</c> fails with
/// EEXIST on an existing name, so of two processes racing for one name exactly one wins, and the name appears with
/// all its bytes. .NET's <c>File.Move(overwrite: false)</c> checks and then renames, which lets a second rename
/// replace the first file.
/// </summary>
internal static partial class NoReplaceLink
{
    private const int AlreadyExists = 17; // EEXIST on Linux, macOS and the BSDs

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string created);

    /// <summary>
    /// Gives <paramref name="source"/> the second name <paramref name="destination"/>; false when that name exists.
    /// The caller deletes <paramref name="source"/> afterwards either way.
    /// </summary>
    /// <exception cref="IOException">The file could not be put in place for another reason.</exception>
    public static bool TryLink(string source, string destination)
    {
        if (OperatingSystem.IsWindows())
        {
            return CopyIfAbsent(source, destination);
        }
        try
        {
            if (Link(source, destination) == 0)
            {
                return true;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return CopyIfAbsent(source, destination);
        }
        // EEXIST: someone else's file is there. Anything else (EPERM, ENOTSUP: a file system without hard links) leaves
        // the exclusive copy, which still has one winner.
        return Marshal.GetLastPInvokeError() != AlreadyExists && CopyIfAbsent(source, destination);
    }

    /// <summary>A copy that creates its destination exclusively (O_EXCL): one winner, though its bytes follow the name.</summary>
    private static bool CopyIfAbsent(string source, string destination)
    {
        try
        {
            File.Copy(source, destination, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(destination))
        {
            return false;
        }
    }
}
