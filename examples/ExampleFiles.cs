/// <summary>
/// Where the examples keep their keys and trust files: $OSSUARY_EXAMPLES_DIR, or "ossuary-examples" under the user's
/// configuration directory (~/.config on Linux), created 0700; never the current directory or the checkout.
/// </summary>
internal static class ExampleFiles
{
    public static string Directory { get; } = Create();

    public static string PathOf(string name) => System.IO.Path.Combine(Directory, name);

    private static string Create()
    {
        string directory = Environment.GetEnvironmentVariable("OSSUARY_EXAMPLES_DIR") is { Length: > 0 } chosen
            ? chosen
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create), "ossuary-examples");
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return directory;
    }
}
