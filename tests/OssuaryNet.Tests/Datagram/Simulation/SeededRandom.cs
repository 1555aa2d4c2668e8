using OssuaryNet.Datagram;

namespace OssuaryNet.Tests.Datagram.Simulation;

/// <summary>A deterministic random source: the same seed gives the same session ids, jitter, secrets and ephemeral keys.</summary>
internal sealed class SeededRandom(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public void Fill(Span<byte> destination) => _random.NextBytes(destination);
}
