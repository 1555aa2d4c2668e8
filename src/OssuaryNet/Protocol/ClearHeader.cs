namespace OssuaryNet.Protocol;

/// <summary>
/// The 8-byte clear header at the start of the initiator's first frame: magic "OSSY", version, pattern, suite,
/// and a reserved zero byte. It is bound into the Noise prologue, so changing any byte of it fails the handshake.
/// </summary>
internal readonly record struct ClearHeader(byte Version, byte Pattern, byte Suite)
{
    public const int Size = 8;

    public static ReadOnlySpan<byte> Magic => "OSSY"u8;

    public void Write(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        destination[4] = Version;
        destination[5] = Pattern;
        destination[6] = Suite;
        destination[7] = 0;
    }

    /// <summary>Parses the header; a wrong magic or reserved byte is <see cref="OssuaryErrorCode.MalformedHandshake"/>.</summary>
    public static ClearHeader Parse(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size || !source[..4].SequenceEqual(Magic))
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, "The peer's first frame does not start with the OssuaryNet magic; it does not speak this protocol.");
        }
        if (source[7] != 0)
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, "The reserved byte of the clear header is not zero.");
        }
        return new ClearHeader(source[4], source[5], source[6]);
    }
}
