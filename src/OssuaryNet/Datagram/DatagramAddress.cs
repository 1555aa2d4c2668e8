using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace OssuaryNet.Datagram;

/// <summary>
/// An opaque network address of at most <see cref="MaxSize"/> bytes (a <c>SocketAddress</c> buffer for UDP, a radio id
/// or a relay path elsewhere), stored inline so that keeping, comparing and hashing one allocates nothing.
/// </summary>
internal struct DatagramAddress : IEquatable<DatagramAddress>
{
    public const int MaxSize = 64;

    private Inline _bytes;

    /// <summary>The number of bytes in use; 0 only for the default (no address).</summary>
    public int Length { get; private set; }

    public readonly bool IsEmpty => Length == 0;

    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Bytes => ((ReadOnlySpan<byte>)_bytes)[..Length];

    /// <summary>Copies <paramref name="address"/>; a caller's mistake (empty, or longer than 64 bytes) throws.</summary>
    public static DatagramAddress From(ReadOnlySpan<byte> address, [CallerArgumentExpression(nameof(address))] string? name = null)
    {
        if (address.IsEmpty || address.Length > MaxSize)
        {
            throw new ArgumentException($"An address is 1 to {MaxSize} bytes, not {address.Length}.", name);
        }
        DatagramAddress result = default;
        address.CopyTo(result._bytes);
        result.Length = address.Length;
        return result;
    }

    public readonly bool Equals(DatagramAddress other) => Bytes.SequenceEqual(other.Bytes);

    public readonly bool Equals(ReadOnlySpan<byte> other) => Bytes.SequenceEqual(other);

    public override readonly bool Equals(object? obj) => obj is DatagramAddress other && Equals(other);

    public override readonly int GetHashCode()
    {
        HashCode hash = default;
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }

    public override readonly string ToString() => Convert.ToHexString(Bytes);

    [InlineArray(MaxSize)]
    private struct Inline
    {
        private byte _first;
    }
}
