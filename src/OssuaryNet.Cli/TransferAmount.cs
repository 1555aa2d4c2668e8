using System.Globalization;

namespace OssuaryNet.Cli;

/// <summary>How much of a file went across, in the words of an error line: "10 % (40.0 of 400.0 MB)".</summary>
internal static class TransferAmount
{
    public static string Of(long done, long total)
    {
        int percent = total == 0 ? 100 : (int)(done * 100 / total);
        (double unit, string name) = total switch
        {
            >= 1_000_000_000 => (1e9, "GB"),
            >= 1_000_000 => (1e6, "MB"),
            >= 10_000 => (1e3, "kB"),
            _ => (1, "bytes"),
        };
        string format = unit == 1 ? "N0" : "0.0";
        return string.Create(CultureInfo.InvariantCulture, $"{percent} % ({(done / unit).ToString(format, CultureInfo.InvariantCulture)} of {(total / unit).ToString(format, CultureInfo.InvariantCulture)} {name})");
    }
}
