namespace OssuaryNet.Datagram;

/// <summary>
/// A token bucket per source address (20 per second, burst 5) for Initiations that proved their address while the
/// endpoint is under load: a proven sender still cannot make the responder do Diffie-Hellman at will. The table is
/// bounded; when it is full, buckets that have refilled (which say nothing) are forgotten first.
/// </summary>
internal sealed class AddressRateLimiter
{
    public const int Capacity = 4096;
    private const double PerSecond = 20, Burst = 5;

    private readonly Dictionary<DatagramAddress, Bucket> _buckets = new();

    public bool TryTake(in DatagramAddress address, TimeSpan now)
    {
        if (!_buckets.TryGetValue(address, out Bucket bucket))
        {
            if (_buckets.Count >= Capacity && !Prune(now))
            {
                return false;
            }
            bucket = new Bucket(Burst, now);
        }
        double tokens = Math.Min(Burst, bucket.Tokens + Math.Max(0, (now - bucket.At).TotalSeconds) * PerSecond);
        bool taken = tokens >= 1;
        _buckets[address] = new Bucket(taken ? tokens - 1 : tokens, now > bucket.At ? now : bucket.At);
        return taken;
    }

    private bool Prune(TimeSpan now)
    {
        foreach (var (address, bucket) in _buckets)
        {
            if (bucket.Tokens + (now - bucket.At).TotalSeconds * PerSecond >= Burst)
            {
                _buckets.Remove(address);
            }
        }
        return _buckets.Count < Capacity;
    }

    private readonly record struct Bucket(double Tokens, TimeSpan At);
}
