namespace OssuaryNet.Datagram;

/// <summary>
/// The inner plaintext of a Data packet: empty for a keepalive, otherwise <c>content ‖ content type (≠ 0) ‖ zero
/// padding</c>, so that padding can hide sizes and the receiver finds the type as the last non-zero byte (as TLS 1.3).
/// </summary>
internal static class DatagramInner
{
    public const int CloseContentSize = 2;
    public const int PathDataSize = 8;

    /// <summary>The inner length for <paramref name="contentLength"/> bytes, padded up to a multiple of <paramref name="paddingBlock"/> (0: none).</summary>
    public static int Length(int contentLength, int paddingBlock)
    {
        int inner = contentLength + 1;
        return paddingBlock > 0 ? (inner + paddingBlock - 1) / paddingBlock * paddingBlock : inner;
    }

    /// <summary>Writes content, type and padding into <paramref name="inner"/>, which is exactly <see cref="Length"/> long.</summary>
    public static void Write(DatagramContentType type, ReadOnlySpan<byte> content, Span<byte> inner)
    {
        if (type == DatagramContentType.Keepalive)
        {
            throw new ArgumentException("A keepalive is an empty inner plaintext, written by no one.", nameof(type));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(inner.Length, content.Length + 1, nameof(inner));
        content.CopyTo(inner);
        inner[content.Length] = (byte)type;
        inner[(content.Length + 1)..].Clear();
    }

    /// <summary>
    /// Reads an opened inner plaintext: its type and content, or false for a malformed one (an unknown type, or a close
    /// or path message whose content has the wrong size), which the receiver drops and counts.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> inner, out DatagramContentType type, out ReadOnlySpan<byte> content)
    {
        content = default;
        type = DatagramContentType.Keepalive;
        if (inner.IsEmpty)
        {
            return true;
        }
        int at = inner.LastIndexOfAnyExcept((byte)0);
        if (at < 0)
        {
            return false; // padding and no type
        }
        type = (DatagramContentType)inner[at];
        content = inner[..at];
        return type switch
        {
            DatagramContentType.Datagram => true,
            DatagramContentType.Close => content.Length == CloseContentSize,
            DatagramContentType.PathChallenge or DatagramContentType.PathResponse => content.Length == PathDataSize,
            _ => false,
        };
    }
}
