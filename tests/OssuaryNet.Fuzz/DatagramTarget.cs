using System.Buffers.Binary;
using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;
using OssuaryNet.Trust;

namespace OssuaryNet.Fuzz;


/// <summary>
/// Datagram mode's network input: two endpoints with an established IK connection, a half-open XX handshake at the
/// server and an unanswered Initiation at the client (so that Data, Finish, Response and CookieReply packets all
/// reach live state), then the input as packets to either side with time moving between them. Network input must
/// never throw: any exception at all is a crash.
/// </summary>
/// <remarks>Input: repeated <c>control:u8 · length:u16 LE · packet</c>; control bit 0 picks the receiver (0 server,
/// 1 client), bits 1–7 advance the clock by that many 100 ms steps (and run the timers) before delivery.</remarks>
internal static class DatagramTarget
{
    private static readonly byte[] ClientAddress = [0xC1], ServerAddress = [0x5E];

    public static void Run(byte[] input)
    {
        var (client, server, now) = Prepare(out _);
        using (client)
        using (server)
        {
            ReadOnlySpan<byte> rest = input;
            while (rest.Length >= 3)
            {
                byte control = rest[0];
                int length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(rest[1..]), rest.Length - 3);
                ReadOnlySpan<byte> packet = rest.Slice(3, length);
                rest = rest[(3 + length)..];
                now += TimeSpan.FromMilliseconds(100 * (control >> 1));
                client.HandleTimeout(now);
                server.HandleTimeout(now);
                if ((control & 1) == 0)
                {
                    server.HandleDatagram(packet, ClientAddress, now);
                }
                else
                {
                    client.HandleDatagram(packet, ServerAddress, now);
                }
                Drain(client, now);
                Drain(server, now);
            }
        }
    }

    /// <summary>The fixed starting state; <paramref name="packets"/> receives the genuine packets of its making (seeds).</summary>
    private static (DatagramEndpoint Client, DatagramEndpoint Server, TimeSpan Now) Prepare(out List<(bool ToClient, byte[] Packet)> packets)
    {
        packets = [];
        TimeSpan now = TimeSpan.FromSeconds(10);
        var client = new DatagramEndpoint(new DatagramOptions { Identity = Targets.Keys.Client }, now, new SeededRandom(1));
        var server = new DatagramEndpoint(new DatagramOptions { Identity = Targets.Keys.Server, AcceptConnections = true, AcceptEarlyData = true }, now, new SeededRandom(2));
        DatagramHandle handle = client.Connect(ServerAddress, Targets.Keys.Server.PublicKey, now, "early"u8);
        Exchange(client, server, now, packets);
        client.Send(handle, "data"u8, now);
        Exchange(client, server, now, packets);
        // An XX handshake left after its Response (the server waits for a Finish), and an IK one left unanswered.
        using var other = new DatagramEndpoint(new DatagramOptions { Identity = Targets.Keys.Client }, now, new SeededRandom(3));
        other.Connect(ServerAddress, null, now);
        byte[] buffer = new byte[1200], address = new byte[64];
        other.TryPollTransmit(buffer, address, out int length, out _);
        server.HandleDatagram(buffer.AsSpan(0, length), [0xC2], now);
        packets.Add((false, buffer[..length]));
        Drain(server, now);
        client.Connect(ServerAddress, Targets.Keys.Server.PublicKey, now + TimeSpan.FromSeconds(1));
        Drain(client, now);
        return (client, server, now);
    }

    private static void Exchange(DatagramEndpoint client, DatagramEndpoint server, TimeSpan now, List<(bool, byte[])> packets)
    {
        byte[] buffer = new byte[1200], address = new byte[64];
        bool moved = true;
        while (moved)
        {
            moved = false;
            Answer(client, now);
            Answer(server, now);
            while (client.TryPollTransmit(buffer, address, out int length, out _))
            {
                moved = true;
                packets.Add((false, buffer[..length]));
                server.HandleDatagram(buffer.AsSpan(0, length), ClientAddress, now);
            }
            while (server.TryPollTransmit(buffer, address, out int length, out _))
            {
                moved = true;
                packets.Add((true, buffer[..length]));
                client.HandleDatagram(buffer.AsSpan(0, length), ServerAddress, now);
            }
        }
    }

    private static void Answer(DatagramEndpoint endpoint, TimeSpan now)
    {
        while (endpoint.TryPollEvent(out DatagramEvent e))
        {
            if (e.Kind == DatagramEventKind.VerificationRequired)
            {
                endpoint.CompletePeerVerification(e.Handle, PeerVerdict.Accept(), now);
            }
            if (e.Kind == DatagramEventKind.Readable)
            {
                byte[] datagram = new byte[1200];
                while (endpoint.TryReceive(e.Handle, datagram, out _, out _))
                {
                }
            }
        }
    }

    /// <summary>Answers verdicts, reads datagrams and throws away what the endpoint would send.</summary>
    private static void Drain(DatagramEndpoint endpoint, TimeSpan now)
    {
        Answer(endpoint, now);
        byte[] buffer = new byte[65536], address = new byte[64];
        while (endpoint.TryPollTransmit(buffer, address, out _, out _))
        {
        }
    }

    /// <summary>Seeds: every genuine packet of the starting state, each as one input, and all of them in one.</summary>
    public static IEnumerable<(string Name, byte[] Input)> Seeds()
    {
        var (client, server, _) = Prepare(out List<(bool ToClient, byte[] Packet)> packets);
        client.Dispose();
        server.Dispose();
        var all = new List<byte>();
        int index = 0;
        foreach ((bool toClient, byte[] packet) in packets)
        {
            byte[] one = [toClient ? (byte)1 : (byte)0, (byte)packet.Length, (byte)(packet.Length >> 8), .. packet];
            all.AddRange(one);
            yield return ($"packet-{index++}-type-{packet[0]}", one);
        }
        yield return ("all-packets-again", [.. all]);
    }
}
