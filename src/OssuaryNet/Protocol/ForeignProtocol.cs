namespace OssuaryNet.Protocol;

/// <summary>
/// Tells, from the first bytes a peer sends, a peer that speaks something else (HTTP, SSH, TLS), so that the handshake
/// fails at once with a sentence saying what the peer is, instead of reading those bytes as a frame length and
/// waiting for data that never comes (the "GE" of "GET" announces a frame of 18,245 bytes; a web server's "HT" one of
/// 18,516, and closes: "Truncated").
/// </summary>
/// <remarks>
/// Invariant: every prefix of a valid first frame passes. The client's first frame is [length:2] "OSSY" ... (the
/// clear header); the server's is [length:2] followed by a handshake message (0x00) or an alert (0x15). Only bytes
/// that no OssuaryNet peer can send fail, and only then is the other protocol guessed.
/// </remarks>
internal static class ForeignProtocol
{
    /// <summary>How many of the peer's first bytes are examined; the connection stops looking after them.</summary>
    public const int BytesExamined = WireFormat.LengthPrefixSize + 4;

    /// <summary>
    /// Throws <see cref="OssuaryErrorCode.MalformedHandshake"/>, with a sentence naming what the peer speaks, when
    /// <paramref name="first"/> (the first bytes received, at most <see cref="BytesExamined"/>) cannot begin an
    /// OssuaryNet first frame.
    /// </summary>
    public static void Check(ReadOnlySpan<byte> first, bool peerIsServer, string? peerEndpoint)
    {
        if (!CanBeginFirstFrame(first, peerIsServer))
        {
            throw new OssuaryException(OssuaryErrorCode.MalformedHandshake, Describe(first, peerIsServer, peerEndpoint));
        }
    }

    private static bool CanBeginFirstFrame(ReadOnlySpan<byte> first, bool peerIsServer)
    {
        if (first.Length <= WireFormat.LengthPrefixSize || (first[0] | first[1]) == 0)
        {
            return true; // any length is plausible; a zero length is FrameReader's to refuse (MalformedFrame), as for any frame
        }
        ReadOnlySpan<byte> body = first[WireFormat.LengthPrefixSize..];
        if (peerIsServer)
        {
            return body[0] is WireFormat.HandshakeMessageKind or WireFormat.AlertKind;
        }
        int known = Math.Min(body.Length, ClearHeader.Magic.Length);
        return body[..known].SequenceEqual(ClearHeader.Magic[..known]);
    }

    private static string Describe(ReadOnlySpan<byte> first, bool peerIsServer, string? peerEndpoint)
    {
        string who = peerEndpoint is { Length: > 0 } endpoint ? PrintableText.Escape(endpoint) : peerIsServer ? "The server" : "The client";
        return (Recognize(first, peerIsServer), peerIsServer) switch
        {
            ("HTTP", true) => $"{who} answered with HTTP: it is a web server, not an OssuaryNet server.",
            ("SSH", true) => $"{who} answered with SSH: it is an SSH server, not an OssuaryNet server.",
            ("TLS", true) => $"{who} answered with TLS: it is a TLS server (HTTPS, or another protocol over TLS), not an OssuaryNet server.",
            (_, true) => $"{who} answered with bytes that cannot begin an OssuaryNet handshake: it does not speak this protocol.",
            ("HTTP", false) => $"{who} sent an HTTP request: it is a web client (a browser, curl), not an OssuaryNet client; this endpoint speaks OssuaryNet.",
            ("SSH", false) => $"{who} sent an SSH greeting: it is an SSH client, not an OssuaryNet client.",
            ("TLS", false) => $"{who} sent a TLS ClientHello: it is a TLS client (https://, or another protocol over TLS), not an OssuaryNet client.",
            _ => $"{who} sent a first frame that does not start with the OssuaryNet magic: it does not speak this protocol.",
        };
    }

    /// <summary>"HTTP", "SSH", "TLS" when <paramref name="first"/> is, or begins, what such a peer sends first; else null.</summary>
    private static string? Recognize(ReadOnlySpan<byte> first, bool peerIsServer)
    {
        if (first.Length >= 3 && first[0] is >= 0x14 and <= 0x17 && first[1] == 0x03 && first[2] <= 0x04)
        {
            return "TLS"; // a record header: content type, version 3.x (a ClientHello, or an alert in answer to us)
        }
        if (BeginsWith(first, "SSH-"u8))
        {
            return "SSH";
        }
        // A web server answers with a status line, or (to what it takes for an HTTP/0.9 request, as Python's
        // http.server does) with the bare HTML of its error page.
        bool http = peerIsServer
            ? BeginsWith(first, "HTTP/"u8) || BeginsWith(first, "<!DOCTYPE"u8, ignoreCase: true) || BeginsWith(first, "<HTML"u8, ignoreCase: true)
            : IsRequestLine(first);
        return http ? "HTTP" : null;
    }

    /// <summary>Whether <paramref name="first"/> (three bytes or more) is a prefix of <paramref name="text"/>, or starts with it.</summary>
    private static bool BeginsWith(ReadOnlySpan<byte> first, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        int length = Math.Min(first.Length, text.Length);
        if (length < 3)
        {
            return false;
        }
        for (int i = 0; i < length; i++)
        {
            byte a = first[i], b = text[i];
            if (a != b && !(ignoreCase && a is >= (byte)'a' and <= (byte)'z' && a - 32 == b))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>A method in capitals ("GET", "POST", "PRI" of HTTP/2's preface...), then a space or nothing yet.</summary>
    private static bool IsRequestLine(ReadOnlySpan<byte> first)
    {
        int letters = 0;
        while (letters < first.Length && first[letters] is >= (byte)'A' and <= (byte)'Z')
        {
            letters++;
        }
        return letters >= 3 && (letters == first.Length || first[letters] == (byte)' ');
    }
}
