using System.Text;

namespace OssuaryNet.Native;

/// <summary>Checks of what C callers pass in: NULL pointers, absurd lengths, unterminated strings.</summary>
internal static unsafe class Boundary
{
    private const int MaxStringBytes = 4096;

    public static ReadOnlySpan<byte> In(byte* pointer, nuint length, string name)
    {
        if (length > int.MaxValue)
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"{name}: length {length} is too large.");
        }
        if (pointer == null && length > 0)
        {
            throw new BoundaryException(NativeStatus.NullPointer, $"{name} is NULL but its length is {length}.");
        }
        return new ReadOnlySpan<byte>(pointer, (int)length);
    }

    public static Span<byte> Out(byte* pointer, nuint length, string name)
    {
        ReadOnlySpan<byte> checkedSpan = In(pointer, length, name);
        return new Span<byte>(pointer, checkedSpan.Length);
    }

    public static ReadOnlySpan<byte> Key(byte* pointer, string name) =>
        pointer == null ? throw new BoundaryException(NativeStatus.NullPointer, $"{name} is NULL.") : new ReadOnlySpan<byte>(pointer, 32);

    public static Span<byte> KeyOut(byte* pointer, string name) =>
        pointer == null ? throw new BoundaryException(NativeStatus.NullPointer, $"{name} is NULL.") : new Span<byte>(pointer, 32);

    public static void Require(void* pointer, string name)
    {
        if (pointer == null)
        {
            throw new BoundaryException(NativeStatus.NullPointer, $"{name} is NULL.");
        }
    }

    public static void Zero(nuint* count)
    {
        if (count != null)
        {
            *count = 0;
        }
    }

    public static string Utf8(byte* text, string name)
    {
        Require(text, name);
        int length = BoundedLength(text);
        if (length < 0)
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"{name} is longer than {MaxStringBytes} bytes or not NUL-terminated.");
        }
        try
        {
            return new UTF8Encoding(false, true).GetString(text, length);
        }
        catch (DecoderFallbackException)
        {
            throw new BoundaryException(NativeStatus.InvalidArgument, $"{name} is not UTF-8.");
        }
    }

    /// <summary>A file path: a non-empty string (an empty one names no file).</summary>
    public static string Path(byte* text, string name)
    {
        string path = Utf8(text, name);
        return path.Length == 0 ? throw new BoundaryException(NativeStatus.InvalidArgument, $"{name} is empty.") : path;
    }

    /// <summary>
    /// The length of a NUL-terminated string, or -1 when no NUL comes within <see cref="MaxStringBytes"/> bytes.
    /// Reads one byte at a time and never past the terminator: a string may end just before an unmapped page, so a
    /// vectorised search over a fixed-size span (which reads whole blocks beyond the NUL) would fault.
    /// </summary>
    private static int BoundedLength(byte* text)
    {
        for (int i = 0; i <= MaxStringBytes; i++)
        {
            if (text[i] == 0)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Writes ASCII text and a NUL into a caller buffer of <paramref name="capacity"/> bytes.</summary>
    public static void WriteText(string text, byte* destination, nuint capacity, string name)
    {
        Require(destination, name);
        if (capacity < (nuint)text.Length + 1)
        {
            throw new BoundaryException(NativeStatus.BufferTooSmall, $"{name} needs {text.Length + 1} bytes, got {capacity}.");
        }
        Encoding.ASCII.GetBytes(text, new Span<byte>(destination, text.Length));
        destination[text.Length] = 0;
    }
}
