namespace OssuaryNet.Datagram;

/// <summary>What a Data packet's inner plaintext carries (its last non-zero byte); an empty inner plaintext is a keepalive.</summary>
internal enum DatagramContentType : byte
{
    Keepalive = 0,
    Datagram = 0x01,
    /// <summary>An authenticated close; content: a u16 reason.</summary>
    Close = 0x02,
    /// <summary>Path validation after the peer's address moved; content: 8 random bytes.</summary>
    PathChallenge = 0x03,
    /// <summary>The answer to a path challenge; content: its 8 bytes.</summary>
    PathResponse = 0x04,
}
