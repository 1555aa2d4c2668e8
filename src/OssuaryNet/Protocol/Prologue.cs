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

    public static byte[] Build(ClearHeader header, string applicationContext)
    {
        byte[] context = Encoding.UTF8.GetBytes(applicationContext);
        if (context.Length > MaxContextBytes)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"The application context is limited to {MaxContextBytes} bytes of UTF-8.");
        }
        ReadOnlySpan<byte> label = WireFormat.PrologueLabel;
        byte[] prologue = new byte[label.Length + ClearHeader.Size + 2 + context.Length];
        label.CopyTo(prologue);
        header.Write(prologue.AsSpan(label.Length));
        BinaryPrimitives.WriteUInt16BigEndian(prologue.AsSpan(label.Length + ClearHeader.Size), (ushort)context.Length);
        context.CopyTo(prologue, label.Length + ClearHeader.Size + 2);
        return prologue;
    }
}
