namespace OssuaryNet.Tests.Datagram.Simulation;

/// <summary>What a simulated link does to each packet: drop it, copy it, delay it by a random amount (which reorders), or refuse it for its size.</summary>
internal sealed record LinkConditions
{
    public static LinkConditions Clean { get; } = new();

    /// <summary>Probability that a packet is lost.</summary>
    public double Loss { get; init; }

    /// <summary>Probability that a packet is duplicated; the number of extra copies is then uniform in 1…<see cref="MaxExtraCopies"/>.</summary>
    public double Duplication { get; init; }

    public int MaxExtraCopies { get; init; } = 1;

    /// <summary>The least one-way delay.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>A uniformly random extra delay per copy, up to this; anything above the gap between packets reorders them.</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>The largest packet the link carries; larger ones are dropped.</summary>
    public int Mtu { get; init; } = 1500;
}
