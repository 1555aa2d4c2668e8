namespace OssuaryNet.Datagram;

/// <summary>
/// Decides whether a responder is under load: when its half-open handshakes reach an eighth of the cap, or more than
/// a set number of Initiations arrive in one second, and for <see cref="DatagramTimers.LoadLinger"/> after the last
/// such sign. Under load, Initiations without a valid token get a CookieReply and cost no Diffie-Hellman.
/// </summary>
internal sealed class LoadMonitor
{
    private readonly int _halfOpenThreshold, _initiationsPerSecond;
    private readonly DatagramStatistics _statistics;
    private TimeSpan _windowStart, _underLoadUntil, _enteredAt;
    private int _initiationsInWindow;
    private bool _underLoad;

    public LoadMonitor(int halfOpenCapacity, int initiationsPerSecond, DatagramStatistics statistics)
    {
        _halfOpenThreshold = Math.Max(1, halfOpenCapacity / 8);
        _initiationsPerSecond = initiationsPerSecond;
        _statistics = statistics;
    }

    /// <summary>Notes one Initiation and says whether the endpoint is under load now.</summary>
    public bool NoteInitiation(TimeSpan now, int halfOpen)
    {
        if (now - _windowStart >= TimeSpan.FromSeconds(1))
        {
            _windowStart = now;
            _initiationsInWindow = 0;
        }
        _initiationsInWindow++;
        if (_initiationsInWindow > _initiationsPerSecond || halfOpen >= _halfOpenThreshold)
        {
            if (!IsUnderLoad(now))
            {
                _underLoad = true;
                _enteredAt = now;
                _statistics.TimesUnderLoad++;
            }
            _underLoadUntil = now + DatagramTimers.LoadLinger;
        }
        return IsUnderLoad(now);
    }

    /// <summary>Whether the endpoint is under load at <paramref name="now"/>; leaving it adds the time spent to the statistics.</summary>
    public bool IsUnderLoad(TimeSpan now)
    {
        if (_underLoad && now >= _underLoadUntil)
        {
            _underLoad = false;
            _statistics.TimeUnderLoad += _underLoadUntil - _enteredAt;
        }
        return _underLoad;
    }
}
