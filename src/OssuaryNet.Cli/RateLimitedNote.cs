namespace OssuaryNet.Cli;

/// <summary>
/// A note printed at most once per interval, as sshd logs refused clients: the first of a burst is shown at once, the
/// rest are counted and the count is told with the next one shown, so a flood cannot fill a terminal or a journal.
/// </summary>
internal sealed class RateLimitedNote(TimeSpan interval)
{
    private readonly object _gate = new();
    private long _lastShownAt = long.MinValue;
    private int _suppressed;

    public void Note(Output output, string message)
    {
        string? line = null;
        lock (_gate)
        {
            long now = Environment.TickCount64;
            if (_lastShownAt == long.MinValue || now - _lastShownAt >= interval.TotalMilliseconds)
            {
                line = _suppressed == 0 ? message : $"{message} (and {_suppressed} more like it since the last)";
                _suppressed = 0;
                _lastShownAt = now;
            }
            else
            {
                _suppressed++;
            }
        }
        if (line is not null)
        {
            output.Note(line);
        }
    }
}
