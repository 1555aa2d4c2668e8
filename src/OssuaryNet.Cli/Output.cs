namespace OssuaryNet.Cli;

/// <summary>
/// Messages for people go to stderr (stdout carries data in netcat mode): notes always, details with -v.
/// Errors are one line, prefixed "ossuary: ".
/// </summary>
internal sealed class Output(bool verbose)
{
    private static readonly object Lock = new();

    public bool Verbose { get; } = verbose;

    public void Note(string message) => Write(message);

    public void Detail(string message)
    {
        if (Verbose)
        {
            Write(message);
        }
    }

    public static void Error(string message) => Write($"ossuary: {message}");

    private static void Write(string line)
    {
        lock (Lock)
        {
            Console.Error.WriteLine(line);
        }
    }
}
