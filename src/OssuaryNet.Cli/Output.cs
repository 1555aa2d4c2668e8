namespace OssuaryNet.Cli;

/// <summary>
/// Messages for people go to stderr (stdout carries data in netcat mode): notes always, details with -v.
/// Errors are one line, prefixed "ossuary: ". A <paramref name="prefix"/> (a tunnel's name in `run`) starts every
/// note and detail, so that lines from many tunnels in one log say which they are about.
/// </summary>
internal sealed class Output(bool verbose, string? prefix = null)
{
    private static readonly object Lock = new();

    public bool Verbose { get; } = verbose;

    /// <summary>
    /// Whether each line starts with its syslog priority (&lt;3&gt; error, &lt;5&gt; note, &lt;7&gt; detail), as journald
    /// reads them from a service's stderr; set by `run` when the journal holds its stderr.
    /// </summary>
    public static bool JournalPriorities { get; set; }

    /// <summary>The same output with <paramref name="tunnel"/> before every line.</summary>
    public Output For(string tunnel) => new(Verbose, $"{prefix}{tunnel}: ");

    public void Note(string message) => Write(NoticeLevel, prefix + message);

    public void Detail(string message)
    {
        if (Verbose)
        {
            Write(DebugLevel, prefix + message);
        }
    }

    public static void Error(string message) => Write(ErrorLevel, $"ossuary: {message}");

    /// <summary>A note for any caller without an Output at hand (a verifier's callback): notes are always shown.</summary>
    public static void Notice(string message) => Write(NoticeLevel, message);

    private const int ErrorLevel = 3, NoticeLevel = 5, DebugLevel = 7;

    private static void Write(int priority, string line)
    {
        lock (Lock)
        {
            Console.Error.WriteLine(JournalPriorities ? $"<{priority}>{line}" : line);
        }
    }
}
