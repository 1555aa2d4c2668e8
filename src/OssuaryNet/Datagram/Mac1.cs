using System.Text;
using OssuaryNet.Crypto;

namespace OssuaryNet.Datagram;

/// <summary>
/// mac1 of an Initiation: keyed BLAKE2b-128 over every earlier byte, so that a responder can throw away garbage and
/// packets meant for another key before any Diffie-Hellman. Its key is BLAKE2b-256("ossuary-dgram-mac1" ‖ responder
/// static public key) for IK, or ‖ a service label agreed out of band for XX (then it is only a garbage filter).
/// </summary>
internal static class Mac1
{
    public const int KeySize = 32;

    private static readonly byte[] Label = Encoding.ASCII.GetBytes("ossuary-dgram-mac1");

    /// <summary>Derives the mac1 key for a responder identity (its static public key, or a service label).</summary>
    public static void DeriveKey(ReadOnlySpan<byte> responderIdentity, Span<byte> key)
    {
        Span<byte> input = stackalloc byte[Label.Length + 256];
        if (responderIdentity.Length > 256)
        {
            throw new ArgumentException("A responder identity for mac1 is at most 256 bytes.", nameof(responderIdentity));
        }
        Label.CopyTo(input);
        responderIdentity.CopyTo(input[Label.Length..]);
        Primitives.Blake2bHash(input[..(Label.Length + responderIdentity.Length)], key[..KeySize]);
    }

    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> covered, Span<byte> mac) =>
        Primitives.Blake2bTag(key, covered, mac[..DatagramPacket.MacSize]);

    /// <summary>Checks a parsed Initiation's mac1 in constant time.</summary>
    public static bool Matches(ReadOnlySpan<byte> key, in ParsedDatagram initiation) =>
        Primitives.Blake2bTagMatches(key, initiation.MacCovered, initiation.Mac);
}
