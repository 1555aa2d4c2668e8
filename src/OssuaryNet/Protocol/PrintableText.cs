using System.Globalization;
using System.Text;

namespace OssuaryNet.Protocol;

/// <summary>
/// Text from a peer (application protocol names, file names) made safe to print on a terminal or in a log: control
/// characters (newlines, carriage returns, escape sequences), format characters (bidirectional overrides) and line
/// or paragraph separators become <c>\u{XXXX}</c>, so a peer can neither forge log lines nor drive a terminal.
/// </summary>
internal static class PrintableText
{
    /// <summary>Whether <paramref name="c"/> must not reach a terminal as it is.</summary>
    public static bool IsUnsafe(char c) => char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>The text with every unsafe character escaped; the text itself when it has none.</summary>
    public static string Escape(string text)
    {
        if (!text.Any(IsUnsafe))
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (IsUnsafe(c))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{{{(int)c:X4}}}");
            }
            else
            {
                escaped.Append(c);
            }
        }
        return escaped.ToString();
    }
}
