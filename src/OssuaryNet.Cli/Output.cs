namespace OssuaryNet.Cli;

/// <summary>
/// Messages for people go to stderr (stdout carries data in netcat mode): notes always, details with -v.
/// Errors are one line, prefixed "ossuary: ".
/// </summary>
internal sealed class Output(bool verbose)
{
    private static readonly object Lock = new();

    public bool Verbose { get; } = verbose;

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static",
        Justification = "A verb calls Note and Detail on the same Output; only Detail needs its verbosity.")]
    public void Note(string message) => Write(message);

    public void Detail(string message)
    {
        if (Verbose)
        {
            Write(message);
        }
    }

    public static void Error(string message) => Write($"ossuary: {message}");

    /// <summary>A note for any caller without an Output at hand (a verifier's callback): notes are always shown.</summary>
    public static void Notice(string message) => Write(message);

    private static void Write(string line)
    {
        lock (Lock)
        {
            Console.Error.WriteLine(line);
        }
    }
}
