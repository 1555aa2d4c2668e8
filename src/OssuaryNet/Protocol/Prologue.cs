using System.Buffers.Binary;
using System.Text;

namespace OssuaryNet.Protocol;

/// <summary>
/// The Noise prologue of wire protocol v1: "OssuaryNet wire v1\0" || clear header (8 bytes) ||
/// uint16 big-endian length of the application context || the context as UTF-8. Both sides compute it; any
/// difference (a tampered header, a downgraded suite, another application's context) fails the handshake
/// at the first authenticated message.
/// </summary>
internal static class Prologue
{
    public const int MaxContextBytes = 1024;

    /// <summary>The largest prologue: label, header, length and the longest context.</summary>
    public const int MaxLength = 19 + ClearHeader.Size + 2 + MaxContextBytes;

    /// <summary>Writes the prologue into <paramref name="destination"/> (at least <see cref="MaxLength"/> bytes) and returns it.</summary>
    public static ReadOnlySpan<byte> Write(ClearHeader header, string applicationContext, Span<byte> destination)
    {
        ReadOnlySpan<byte> label = WireFormat.PrologueLabel;
        if (Encoding.UTF8.GetByteCount(applicationContext) > MaxContextBytes)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"The application context is limited to {MaxContextBytes} bytes of UTF-8.");
        }
        label.CopyTo(destination);
        header.Write(destination[label.Length..]);
        int contextStart = label.Length + ClearHeader.Size + 2;
        int contextLength = Encoding.UTF8.GetBytes(applicationContext, destination[contextStart..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(label.Length + ClearHeader.Size)..], (ushort)contextLength);
        return destination[..(contextStart + contextLength)];
    }
}
