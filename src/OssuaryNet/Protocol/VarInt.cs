using System.Buffers.Binary;

namespace OssuaryNet.Protocol;

/// <summary>
/// QUIC variable-length integers (RFC 9000 section 16): the top two bits of the first byte give the length
/// (00: 1 byte, 01: 2, 10: 4, 11: 8), the rest is the value in big-endian order; values up to 2^62-1.
/// </summary>
internal static class VarInt
{
    public const ulong MaxValue = (1UL << 62) - 1;

    public static int SizeOf(ulong value) => value switch
    {
        < 1UL << 6 => 1,
        < 1UL << 14 => 2,
        < 1UL << 30 => 4,
        <= MaxValue => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(value), "Too large for a variable-length integer."),
    };

    public static int Write(ulong value, Span<byte> destination)
    {
        switch (SizeOf(value))
        {
            case 1:
                destination[0] = (byte)value;
                return 1;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value | 0x4000));
                return 2;
            case 4:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value | 0x8000_0000);
                return 4;
            default:
                BinaryPrimitives.WriteUInt64BigEndian(destination, value | 0xC000_0000_0000_0000);
                return 8;
        }
    }

    /// <summary>Reads one integer; false when <paramref name="source"/> is too short.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ulong value, out int length)
    {
        value = 0;
        length = 0;
        if (source.IsEmpty)
        {
            return false;
        }
        int size = 1 << (source[0] >> 6);
        if (source.Length < size)
        {
            return false;
        }
        value = (ulong)(source[0] & 0x3f);
        for (int i = 1; i < size; i++)
        {
            value = (value << 8) | source[i];
        }
        length = size;
        return true;
    }
}
