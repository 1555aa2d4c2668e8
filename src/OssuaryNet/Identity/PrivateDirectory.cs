namespace OssuaryNet.Identity;

/// <summary>
/// Creates the directories that hold keys and trust files as ssh creates ~/.ssh: missing ones are made 0700 (owner
/// only), every missing level of the path, so that nobody else can list, add or swap files in them. Existing
/// directories are left as they are.
/// </summary>
internal static class PrivateDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Makes sure the directory of <paramref name="filePath"/> exists.</summary>
    public static void EnsureFor(string filePath)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(filePath));
        if (directory is null || Directory.Exists(directory))
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }
        // Directory.CreateDirectory(path, mode) gives the mode to the last level only (the others get 0777 less the
        // umask), so each missing level is made here, outermost first.
        EnsureFor(directory);
        Directory.CreateDirectory(directory, OwnerOnly);
    }
}
