namespace OssuaryNet.Cli;

/// <summary>Where the tool keeps its files: $XDG_CONFIG_HOME/ossuary, falling back to ~/.config/ossuary.</summary>
internal static class CliPaths
{
    public static string ConfigDirectory
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".config") : xdg, "ossuary");
        }
    }

    public static string DefaultKey => Path.Combine(ConfigDirectory, "id");
    public static string DefaultKnownHosts => Path.Combine(ConfigDirectory, "known_hosts");
    public static string DefaultAuthorizedKeys => Path.Combine(ConfigDirectory, "authorized_keys");
}
