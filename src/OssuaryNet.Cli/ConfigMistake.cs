namespace OssuaryNet.Cli;

/// <summary>
/// One mistake in a `run` configuration, printed as one line that says where and what: "FILE:LINE: KEY: problem".
/// <paramref name="Line"/> is 1-based, null when the mistake has no one place (a syntax error gives its own
/// position in <paramref name="Problem"/>); <paramref name="Key"/> is the dotted TOML key ("tunnels.db.listen").
/// </summary>
/// <param name="InNamedFile">The mistake is in a key or trust file the configuration names (exit code 6), not in the configuration itself (1).</param>
internal sealed record ConfigMistake(string File, int? Line, string? Key, string Problem, bool InNamedFile = false)
{
    public int ExitCode => InNamedFile ? ExitCodes.KeyFile : ExitCodes.Usage;

    public override string ToString() =>
        $"{File}{(Line is int line ? $":{line}" : "")}: {(Key is null ? "" : $"{Key}: ")}{Problem}";
}
