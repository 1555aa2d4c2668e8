using OssuaryNet.Crypto;

namespace OssuaryNet.Datagram;

/// <summary>
/// Where datagram mode gets its randomness (session ids, jitter, secrets): the operating system's generator in use,
/// a seeded one in tests, so that a simulation replays exactly.
/// </summary>
internal interface IRandomSource
{
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's cryptographic generator (libsodium's randombytes, through Geralt).</summary>
internal sealed class SystemRandomSource : IRandomSource
{
    public static SystemRandomSource Instance { get; } = new();

    private SystemRandomSource()
    {
    }

    public void Fill(Span<byte> destination) => Primitives.RandomBytes(destination);
}
