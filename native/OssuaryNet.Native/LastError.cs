using System.Runtime.InteropServices;
using System.Text;

namespace OssuaryNet.Native;

/// <summary>
/// The message of the last failure on the calling thread, as a NUL-terminated UTF-8 string owned by the library and
/// valid until the next failing call on the same thread. Messages never contain key material or plaintext.
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static byte* _message;
    private static readonly byte* Empty = (byte*)NativeMemory.AllocZeroed(1);

    public static byte* Pointer => _message != null ? _message : Empty;

    public static int Set(int status, string message)
    {
        if (_message != null)
        {
            NativeMemory.Free(_message);
        }
        int length = Encoding.UTF8.GetByteCount(message);
        _message = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(message, new Span<byte>(_message, length));
        _message[length] = 0;
        return status;
    }

    /// <summary>Maps any exception to its status, records its message, and returns the status.</summary>
    public static int From(Exception error) => error switch
    {
        BoundaryException b => Set(b.Status, b.Message),
        OssuaryException o => Set(NativeStatus.From(o.ErrorCode), o.Message),
        ObjectDisposedException => Set(NativeStatus.InvalidHandle, "The connection has been freed."),
        ArgumentException a => Set(NativeStatus.InvalidArgument, $"Invalid argument: {WithoutParameterName(a)}"),
        InvalidOperationException i => Set(NativeStatus.From(OssuaryErrorCode.InvalidOperation), i.Message),
        _ => Set(NativeStatus.From(OssuaryErrorCode.InternalError), $"Internal error: {error.GetType().Name}: {error.Message}"),
    };

    /// <summary>
    /// The message as the thrower wrote it: .NET appends the parameter name, which in this trimmed library (system
    /// resource keys) reads "Arg_ParamName_Name, data" and tells a C caller nothing.
    /// </summary>
    private static string WithoutParameterName(ArgumentException error)
    {
        string message = error.Message;
        foreach (string suffix in (ReadOnlySpan<string>)[" Arg_ParamName_Name", " (Parameter '"])
        {
            int at = message.LastIndexOf(suffix, StringComparison.Ordinal);
            if (at > 0)
            {
                return message[..at];
            }
        }
        return message;
    }
}
