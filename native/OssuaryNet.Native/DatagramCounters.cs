using System.Runtime.InteropServices;
using System.Text;
using OssuaryNet.Datagram;

namespace OssuaryNet.Native;

/// <summary>
/// The counters of ossuary_dgram_statistic and ossuary_dgram_conn_statistic, by the numbers ossuary.h gives them.
/// Counters are read one at a time by number, not as a struct, so that later versions can add counters without
/// changing the layout of anything a caller compiled against.
/// </summary>
internal static unsafe class DatagramCounters
{
    private static readonly int DropReasonCount = Enum.GetValues<DatagramDropReason>().Length;
    private static readonly byte*[] DropReasonText = Allocate();

    /// <summary>Endpoint counter <paramref name="which"/> (OSSUARY_DGRAM_STAT_*).</summary>
    public static long Endpoint(DatagramStatistics s, int which) => which switch
    {
        1 => s.HandshakesStarted,
        2 => s.HandshakesCompleted,
        3 => s.HandshakesTimedOut,
        4 => s.HandshakesRejected,
        5 => s.HandshakeRetransmissions,
        6 => s.CookieRepliesSent,
        7 => s.TokensAccepted,
        8 => s.TokensMalformed,
        9 => s.TokensExpired,
        10 => s.TokensForged,
        11 => s.TimesUnderLoad,
        12 => (long)s.TimeUnderLoad.TotalMilliseconds,
        13 => s.Rekeys,
        14 => s.RoamingEvents,
        15 => s.EarlyDataAccepted,
        16 => s.EarlyDataRefused,
        17 => s.QueuedDatagramsDropped,
        18 => s.TransmitsDropped,
        19 => s.HalfOpenHandshakes,
        20 => s.Connections,
        21 => s.TotalPacketsIn,
        22 => s.TotalBytesIn,
        23 => s.TotalPacketsOut,
        24 => s.TotalBytesOut,
        25 => s.TotalDropped,
        26 => s.ConnectionsEvicted,
        27 => s.ConnectionsUnused,
        28 => s.HandshakesUnconfirmed,
        _ => throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown endpoint statistic {which} (OSSUARY_DGRAM_STAT_*)."),
    };

    /// <summary>Connection counter <paramref name="which"/> (OSSUARY_DGRAM_CONN_*).</summary>
    public static ulong Connection(DatagramConnectionInfo info, int which) => which switch
    {
        1 => info.IsEstablished ? 1UL : 0,
        2 => info.IsInitiator ? 1UL : 0,
        3 => (ulong)info.Pattern,
        4 => info.EarlyDataUsed ? 1UL : 0,
        5 => info.AddressValidated ? 1UL : 0,
        6 => (ulong)info.PacketsIn,
        7 => (ulong)info.BytesIn,
        8 => (ulong)info.PacketsOut,
        9 => (ulong)info.BytesOut,
        10 => (ulong)info.AuthenticationFailures,
        11 => info.SmoothedRtt is { } rtt ? (ulong)(rtt.Ticks / TimeSpan.TicksPerMicrosecond) : 0,
        12 => info.KeyPairAge is { } age ? (ulong)age.TotalMilliseconds : ulong.MaxValue,
        13 => info.LargestReorderDepth,
        14 => (ulong)Math.Round(info.EstimatedLoss * 1_000_000),
        _ => throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown connection statistic {which} (OSSUARY_DGRAM_CONN_*)."),
    };

    /// <summary>The name of a drop reason as a static NUL-terminated string ("Malformed"), or "" for an unknown number.</summary>
    public static byte* DropReasonName(int reason)
    {
        return reason >= 1 && reason <= DropReasonCount ? DropReasonText[reason] : DropReasonText[0];
    }

    // Allocated once and never freed: the strings are library-owned and valid for the life of the process. Index 0 is "".
    private static byte*[] Allocate()
    {
        var names = new byte*[Enum.GetValues<DatagramDropReason>().Length + 1];
        names[0] = (byte*)NativeMemory.AllocZeroed(1);
        foreach (DatagramDropReason reason in Enum.GetValues<DatagramDropReason>())
        {
            byte[] text = Encoding.ASCII.GetBytes(reason.ToString() + "\0");
            byte* copy = (byte*)NativeMemory.Alloc((nuint)text.Length);
            text.CopyTo(new Span<byte>(copy, text.Length));
            names[(int)reason] = copy;
        }
        return names;
    }
}
