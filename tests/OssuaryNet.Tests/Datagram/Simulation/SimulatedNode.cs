using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Tests.Datagram.Simulation;

/// <summary>One endpoint on the simulated network, with what it saw: its events and every datagram it received.</summary>
internal sealed class SimulatedNode : IDisposable
{
    public SimulatedNode(string name, DatagramEndpoint endpoint, OssuaryKeyPair identity, byte[] address)
    {
        Name = name;
        Endpoint = endpoint;
        Identity = identity;
        Address = address;
    }

    public string Name { get; }

    public DatagramEndpoint Endpoint { get; }

    public OssuaryKeyPair Identity { get; }

    public byte[] Address { get; set; }

    /// <summary>How this node answers verification requests; null leaves them pending.</summary>
    public Func<PeerIdentity, PeerVerdict>? Verifier { get; set; } = _ => PeerVerdict.Accept();

    /// <summary>Whether the network reads datagrams out as soon as they are readable (off: they wait in the endpoint).</summary>
    public bool AutoReceive { get; set; } = true;

    public List<DatagramEvent> Events { get; } = [];

    public List<ReceivedDatagram> Received { get; } = [];

    public IEnumerable<DatagramEvent> EventsOf(DatagramEventKind kind) => Events.Where(e => e.Kind == kind);

    public DatagramHandle Accepted => EventsOf(DatagramEventKind.Accepted).Single().Handle;

    public IEnumerable<byte[]> ReceivedOn(DatagramHandle handle) => Received.Where(r => r.Handle == handle).Select(r => r.Payload);

    public void Dispose()
    {
        Endpoint.Dispose();
        Identity.Dispose();
    }
}

internal sealed record ReceivedDatagram(DatagramHandle Handle, byte[] Payload, DatagramReceiveFlags Flags, TimeSpan At);
