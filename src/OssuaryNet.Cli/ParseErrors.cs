using System.Text.RegularExpressions;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>
/// The command-line parser's error messages in the tool's words: one sentence, no .NET type names.
/// </summary>
internal static partial class ParseErrors
{
    public static string Describe(string message)
    {
        // "Cannot parse argument 'x' for option '--y' as expected type 'System.Int32'. Did you mean one of the following?\nA\nB"
        // The parser quotes the arguments as given: control characters in them are shown escaped, never sent to the terminal.
        string firstLine = PrintableText.Escape(message.Split('\n')[0].Trim());
        Match typed = ExpectedType().Match(firstLine);
        if (!typed.Success)
        {
            return firstLine;
        }
        string expected = typed.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" or "System.UInt16" => "a whole number",
            "System.Double" => "a number",
            "System.TimeSpan" => "a duration",
            "OssuaryNet.OssuaryPostQuantum" => "off, preferred or required",
            "OssuaryNet.OssuarySuite" => "a suite name",
            _ => "a value of the right kind",
        };
        return $"cannot read '{typed.Groups["value"].Value}' for {typed.Groups["target"].Value}: expected {expected}.";
    }

    [GeneratedRegex("^Cannot parse argument '(?<value>.*)' for (?<target>option '[^']+'|command '[^']+'|argument '[^']+') as expected type '(?<type>[^']+)'")]
    private static partial Regex ExpectedType();
}
