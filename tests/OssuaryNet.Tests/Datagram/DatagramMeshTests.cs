using System.Buffers.Binary;
using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Several endpoints at once: every node both connects and accepts, over a lossy, reordering network.</summary>
public sealed class DatagramMeshTests
{
    [Fact]
    public void FiveNodesConnectToEachOtherAndEveryDatagramArrivesAtMostOnceFromTheRightPeer()
    {
        using var network = new SimulatedNetwork(800, new LinkConditions { Loss = 0.05, Duplication = 0.05, Jitter = TimeSpan.FromMilliseconds(40) });
        SimulatedNode[] nodes = Enumerable.Range(0, 5).Select(i => network.AddNode($"node{i}", o => o.AcceptConnections = true)).ToArray();
        // handles[i][j]: node i's connection to node j
        var handles = new Dictionary<(int, int), DatagramHandle>();
        for (int i = 0; i < nodes.Length; i++)
        {
            for (int j = i + 1; j < nodes.Length; j++)
            {
                handles[(i, j)] = nodes[i].Endpoint.Connect(nodes[j].Address, (i + j) % 2 == 0 ? nodes[j].Identity.PublicKey : null, network.Now);
            }
        }
        Assert.True(network.RunUntil(() => nodes.Select((n, i) => n.EventsOf(DatagramEventKind.Accepted).Count() == i).All(x => x)
            && nodes.Select((n, i) => n.EventsOf(DatagramEventKind.Connected).Count() == nodes.Length - 1 - i).All(x => x), TimeSpan.FromSeconds(30)));
        foreach (SimulatedNode node in nodes)
        {
            foreach (DatagramEvent accepted in node.EventsOf(DatagramEventKind.Accepted))
            {
                int peer = Array.FindIndex(nodes, n => n.Identity.PublicKey == node.Endpoint.GetInfo(accepted.Handle).PeerKey);
                handles[(Array.IndexOf(nodes, node), peer)] = accepted.Handle;
            }
        }
        Assert.Equal(20, handles.Count);

        for (int round = 0; round < 50; round++)
        {
            foreach (((int from, int to), DatagramHandle handle) in handles)
            {
                byte[] payload = new byte[12];
                BinaryPrimitives.WriteInt32LittleEndian(payload, from);
                BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), to);
                BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(8), round);
                nodes[from].Endpoint.Send(handle, payload, network.Now);
            }
            network.RunFor(TimeSpan.FromMilliseconds(20));
        }
        network.RunFor(TimeSpan.FromSeconds(1));

        for (int to = 0; to < nodes.Length; to++)
        {
            foreach (ReceivedDatagram datagram in nodes[to].Received)
            {
                int from = BinaryPrimitives.ReadInt32LittleEndian(datagram.Payload);
                Assert.Equal(to, BinaryPrimitives.ReadInt32LittleEndian(datagram.Payload.AsSpan(4)));
                Assert.Equal(handles[(to, from)], datagram.Handle); // delivered on the connection to its sender
            }
            var keys = nodes[to].Received.Select(r => Convert.ToHexString(r.Payload)).ToList();
            Assert.Equal(keys.Count, keys.Distinct().Count());
            Assert.InRange(keys.Count, 4 * 50 * 85 / 100, 4 * 50);
        }
    }
}
