using OssuaryNet.Identity;
using OssuaryNet.Noise;

namespace OssuaryNet.Tests;

/// <summary>Fixed identities and deterministic ephemeral keys, so that transcripts are reproducible.</summary>
internal static class TestKeys
{
    public static readonly OssuaryKeyPair Client = OssuaryKeyPair.FromPrivateKey(Fill(0x11));
    public static readonly OssuaryKeyPair Server = OssuaryKeyPair.FromPrivateKey(Fill(0x22));
    public static readonly OssuaryKeyPair Other = OssuaryKeyPair.FromPrivateKey(Fill(0x33));

    public static byte[] Fill(byte value) => Enumerable.Repeat(value, 32).ToArray();

    /// <summary>Ephemeral keys derived from a seed and a counter: the same seed gives the same sequence.</summary>
    public static EphemeralKeySource Deterministic(byte seed)
    {
        int counter = 0;
        return destination =>
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (byte)(seed * 31 + counter * 7 + i);
            }
            counter++;
        };
    }
}
