using System.Diagnostics;
using OssuaryNet.Crypto;
using OssuaryNet.Datagram;

namespace OssuaryNet.Bench;

/// <summary>
/// `datagram-load [INITIATIONS]`: a flood of genuine Initiations (fresh keys, spoofed source addresses) at a
/// listener with the default policy. Reports the X25519 operations it performed per Initiation once under load
/// (goal: 0), the half-open handshakes it holds, and how many Initiations per second one core answers that way.
/// Counted through the crypto seam (<see cref="X25519.AgreementsOnThisThread"/>), not estimated.
/// </summary>
internal static class DatagramLoad
{
    public static void Run(int initiations)
    {
        TimeSpan now = TimeSpan.FromSeconds(1);
        using var server = new DatagramEndpoint(new DatagramOptions { Identity = Endpoints.ServerKey, AcceptConnections = true }, now);
        var flood = new List<byte[]>(initiations);
        byte[] packet = new byte[1200], address = new byte[64];
        using (var attacker = new DatagramEndpoint(new DatagramOptions { Identity = Endpoints.ClientKey }, now))
        {
            for (int i = 0; i < initiations; i++)
            {
                attacker.Connect([0xA0, (byte)(i >> 8), (byte)i], null, now);
                attacker.TryPollTransmit(packet, address, out int length, out _);
                flood.Add(packet[..length]);
            }
        }
        byte[][] sources = Enumerable.Range(0, initiations).Select(i => new byte[] { 0x5F, (byte)(i >> 16), (byte)(i >> 8), (byte)i }).ToArray();

        // The endpoint goes under load after 1000 Initiations in one second (the default); measure from there.
        int warm = Math.Min(1001, initiations / 2);
        for (int i = 0; i < warm; i++)
        {
            server.HandleDatagram(flood[i], sources[i], now);
            while (server.TryPollTransmit(packet, address, out _, out _))
            {
            }
        }
        long dhBefore = X25519.AgreementsOnThisThread;
        long halfOpenBefore = server.Statistics.HalfOpenHandshakes;
        var clock = Stopwatch.StartNew();
        for (int i = warm; i < initiations; i++)
        {
            server.HandleDatagram(flood[i], sources[i], now);
            while (server.TryPollTransmit(packet, address, out _, out _))
            {
            }
        }
        clock.Stop();
        int measured = initiations - warm;
        DatagramStatistics statistics = server.Statistics;
        Console.WriteLine($"initiations under load   {measured}");
        Console.WriteLine($"DH per initiation        {(double)(X25519.AgreementsOnThisThread - dhBefore) / measured:F3}  (goal 0)");
        Console.WriteLine($"half-open added          {statistics.HalfOpenHandshakes - halfOpenBefore}");
        Console.WriteLine($"cookie replies           {statistics.CookieRepliesSent}");
        Console.WriteLine($"answered per second      {measured / clock.Elapsed.TotalSeconds:F0}  (one core, sans-I/O)");
    }
}
