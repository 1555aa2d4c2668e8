using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram.Simulation;

/// <summary>Shared steps of datagram tests: a connected pair, a packet held back from the wire, a drop counted under exactly one reason.</summary>
internal static class DatagramScenario
{
    public static (SimulatedNetwork Network, SimulatedNode Client, SimulatedNode Server, DatagramHandle ClientHandle, DatagramHandle ServerHandle) Connected(
        int seed, bool ik, Action<DatagramOptions>? server = null, Action<DatagramOptions>? client = null, LinkConditions? conditions = null)
    {
        var (network, c, s) = DatagramHandshakeTests.Pair(seed, server, client, conditions);
        DatagramHandle handle = c.Endpoint.Connect(s.Address, ik ? s.Identity.PublicKey : null, network.Now);
        Assert.True(network.RunUntil(() => c.EventsOf(DatagramEventKind.Connected).Any() && s.EventsOf(DatagramEventKind.Accepted).Any(), TimeSpan.FromSeconds(30)));
        network.RunFor(TimeSpan.FromMilliseconds(100)); // confirmations land
        return (network, c, s, handle, s.Accepted);
    }

    /// <summary>Runs <paramref name="send"/> and keeps the first packet on the wire that matches, instead of delivering it.</summary>
    public static WirePacket Hold(SimulatedNetwork network, Func<WirePacket, bool> match, Action send)
    {
        WirePacket? held = null;
        network.Tap = p =>
        {
            if (held is null && match(p))
            {
                held = p;
                return false;
            }
            return true;
        };
        send();
        network.Pump();
        network.Tap = null;
        return held ?? throw new InvalidOperationException("No matching packet went out.");
    }

    public static bool IsDataTo(this WirePacket packet, SimulatedNode node) => packet.Type == DatagramPacketType.Data && packet.To.AsSpan().SequenceEqual(node.Address);

    public static long[] Drops(DatagramEndpoint endpoint)
    {
        DatagramStatistics statistics = endpoint.Statistics;
        return Enum.GetValues<DatagramDropReason>().Select(statistics.Dropped).ToArray();
    }

    /// <summary>Asserts that <paramref name="act"/> moved exactly one drop counter, <paramref name="reason"/>, by exactly one.</summary>
    public static void DropsExactlyOnce(DatagramEndpoint endpoint, DatagramDropReason reason, Action act)
    {
        long[] before = Drops(endpoint);
        act();
        long[] after = Drops(endpoint);
        DatagramDropReason[] reasons = Enum.GetValues<DatagramDropReason>();
        for (int i = 0; i < reasons.Length; i++)
        {
            Assert.True(after[i] - before[i] == (reasons[i] == reason ? 1 : 0),
                $"{reasons[i]} moved by {after[i] - before[i]} where only {reason} should move, by 1");
        }
    }
}
