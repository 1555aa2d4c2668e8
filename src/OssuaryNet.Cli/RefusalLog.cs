using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>
/// The lines a serving verb prints, by default, for every client it refuses or whose handshake fails: one line each,
/// with the client's address, its fingerprint when the handshake got that far, and the reason, as sshd logs refused
/// keys. A flood must not flood the terminal or the journal: after a burst of <see cref="Burst"/> lines, one more
/// line a second is printed, and the next line printed counts those left out.
/// </summary>
internal sealed class RefusalLog(TimeProvider time)
{
    private const int Burst = 10;
    private const int MaxReasonLength = 300;
    private static readonly TimeSpan Refill = TimeSpan.FromSeconds(1);

    private readonly object _lock = new();
    private double _allowance = Burst;
    private long _lastRefill = time.GetTimestamp();
    private int _leftOut;

    /// <summary>The process's log: a process runs one serving verb, whose clients share one allowance.</summary>
    public static RefusalLog Process { get; } = new(TimeProvider.System);

    /// <summary>A client refused by the verifier: its key is known.</summary>
    public void Refused(string? client, string fingerprint, string reason) =>
        Write($"refused client {client ?? "(address unknown)"} (fingerprint {fingerprint}): {Bounded(reason)}");

    /// <summary>A handshake that failed before (or without) a verdict: a peer that speaks something else, a timeout, a reset.</summary>
    public void HandshakeFailed(string? client, string reason) =>
        Write($"handshake from {client ?? "(address unknown)"} failed: {Bounded(reason)}");

    private void Write(string line)
    {
        int leftOut;
        lock (_lock)
        {
            long now = time.GetTimestamp();
            _allowance = Math.Min(Burst, _allowance + time.GetElapsedTime(_lastRefill, now) / Refill);
            _lastRefill = now;
            if (_allowance < 1)
            {
                _leftOut++;
                return;
            }
            _allowance--;
            leftOut = _leftOut;
            _leftOut = 0;
        }
        Output.Notice(leftOut == 0 ? line : $"{line} ({leftOut} more refused or failed clients not shown)");
    }

    /// <summary>A reason may quote what a peer sent: escaped, and cut to one line's worth.</summary>
    private static string Bounded(string reason)
    {
        string escaped = PrintableText.Escape(reason);
        return escaped.Length <= MaxReasonLength ? escaped : string.Concat(escaped.AsSpan(0, MaxReasonLength), "...");
    }
}
