using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Tests.Datagram.Simulation;

/// <summary>
/// A deterministic packet network for datagram endpoints: a virtual clock, seeded randomness, per-direction link
/// conditions (loss, duplication, delay and jitter, MTU), addresses that can be rebound, a record of every packet put on
/// the wire and a way to inject any packet. Endpoints are driven only through their public sans-I/O API.
/// </summary>
internal sealed class SimulatedNetwork : IDisposable
{
    private readonly Random _random;
    private readonly int _seed;
    private readonly List<SimulatedNode> _nodes = [];
    private readonly PriorityQueue<InFlight, (TimeSpan, long)> _inFlight = new();
    private readonly Dictionary<(string From, string To), LinkConditions> _links = new();
    private long _sequence;
    private int _nextAddress = 1;

    public SimulatedNetwork(int seed, LinkConditions? conditions = null)
    {
        _seed = seed;
        _random = new Random(seed);
        Conditions = conditions ?? LinkConditions.Clean;
    }

    /// <summary>The virtual clock; it starts at 1000 s so that "earlier" times exist.</summary>
    public TimeSpan Now { get; private set; } = TimeSpan.FromSeconds(1000);

    /// <summary>The conditions of every link without its own.</summary>
    public LinkConditions Conditions { get; set; }

    /// <summary>Every packet an endpoint sent, in order: (packet, from, to, time).</summary>
    public List<WirePacket> Wire { get; } = [];

    /// <summary>Every packet handed to an endpoint, in order (copies included): (packet, from, to, time).</summary>
    public List<WirePacket> Deliveries { get; } = [];

    /// <summary>Called for each packet put on the wire; returning false drops it (an attacker or a test's own loss).</summary>
    public Func<WirePacket, bool>? Tap { get; set; }

    public IReadOnlyList<SimulatedNode> Nodes => _nodes;

    public SimulatedNode AddNode(string name, Action<DatagramOptions>? configure = null, OssuaryKeyPair? identity = null)
    {
        identity ??= OssuaryKeyPair.Generate();
        var options = new DatagramOptions { Identity = identity };
        configure?.Invoke(options);
        var endpoint = new DatagramEndpoint(options, Now, new SeededRandom(_seed * 31 + _nodes.Count));
        var node = new SimulatedNode(name, endpoint, identity, NewAddress());
        _nodes.Add(node);
        return node;
    }

    /// <summary>A fresh address nobody uses (4 bytes, as an opaque id).</summary>
    public byte[] NewAddress() => BitConverter.GetBytes(_nextAddress++);

    public void SetLink(SimulatedNode from, SimulatedNode to, LinkConditions conditions) =>
        _links[(from.Name, to.Name)] = conditions;

    /// <summary>Moves a node to a new address (a NAT rebinding, a new network): packets to the old one reach nobody.</summary>
    public void Rebind(SimulatedNode node) => node.Address = NewAddress();

    /// <summary>Puts a packet on the wire as if <paramref name="from"/> sent it, delivered after <paramref name="delay"/>.</summary>
    public void Inject(byte[] packet, byte[] from, byte[] to, TimeSpan delay = default) =>
        _inFlight.Enqueue(new InFlight(packet, from, to), (Now + delay, _sequence++));

    /// <summary>Hands a packet to the node at <paramref name="to"/> now, then lets everything it causes happen.</summary>
    public void DeliverNow(byte[] packet, byte[] from, SimulatedNode to)
    {
        to.Endpoint.HandleDatagram(packet, from, Now);
        Pump();
    }

    /// <summary>Steps the clock forward at once, as a suspended machine or a corrected clock does: no timer fires on the way.</summary>
    public void JumpClock(TimeSpan by) => Now += by;

    public void RunFor(TimeSpan duration) => RunUntil(() => false, duration);

    /// <summary>Runs the network until <paramref name="done"/> holds (checked after each step) or <paramref name="limit"/> passes; returns whether it held.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan limit)
    {
        TimeSpan end = Now + limit;
        Pump();
        for (int steps = 0; ; steps++)
        {
            if (done())
            {
                return true;
            }
            if (steps > 5_000_000)
            {
                throw new InvalidOperationException("The simulation does not settle: too many steps.");
            }
            TimeSpan? next = NextEvent();
            if (next is null || next > end)
            {
                Now = end;
                FireTimers();
                Pump();
                return done();
            }
            Now = next.Value > Now ? next.Value : Now;
            while (_inFlight.TryPeek(out InFlight packet, out var at) && at.Item1 <= Now)
            {
                _inFlight.Dequeue();
                if (_nodes.FirstOrDefault(n => n.Address.AsSpan().SequenceEqual(packet.To)) is { } node)
                {
                    Deliveries.Add(new WirePacket(packet.Packet, packet.From, packet.To, Now));
                    node.Endpoint.HandleDatagram(packet.Packet, packet.From, Now);
                }
                Pump();
            }
            FireTimers();
            Pump();
        }
    }

    private TimeSpan? NextEvent()
    {
        TimeSpan? next = _inFlight.TryPeek(out _, out var at) ? at.Item1 : null;
        foreach (SimulatedNode node in _nodes)
        {
            if (node.Endpoint.NextTimeout() is { } timeout && (next is null || timeout < next))
            {
                next = timeout;
            }
        }
        return next;
    }

    private void FireTimers()
    {
        foreach (SimulatedNode node in _nodes)
        {
            if (node.Endpoint.NextTimeout() is { } timeout && timeout <= Now)
            {
                node.Endpoint.HandleTimeout(Now);
                if (node.Endpoint.NextTimeout() is { } again && again <= Now)
                {
                    throw new InvalidOperationException($"{node.Name}: HandleTimeout({Now}) left NextTimeout at {again}: a timer that never advances.");
                }
            }
        }
    }

    /// <summary>Drains every endpoint's events (answering verifications, reading datagrams) and transmits, until none is left.</summary>
    public void Pump()
    {
        byte[] buffer = new byte[65536];
        byte[] address = new byte[64];
        bool any = true;
        while (any)
        {
            any = false;
            foreach (SimulatedNode node in _nodes)
            {
                while (node.Endpoint.TryPollEvent(out DatagramEvent e))
                {
                    any = true;
                    node.Events.Add(e);
                    if (e.Kind == DatagramEventKind.VerificationRequired && node.Verifier is { } verifier)
                    {
                        PeerIdentity peer = node.Endpoint.PeerToVerify(e.Handle);
                        node.Endpoint.CompletePeerVerification(e.Handle, verifier(peer), Now);
                    }
                    if (e.Kind == DatagramEventKind.Readable && node.AutoReceive)
                    {
                        while (node.Endpoint.TryReceive(e.Handle, buffer, out int length, out DatagramReceiveFlags flags))
                        {
                            node.Received.Add(new ReceivedDatagram(e.Handle, buffer[..length], flags, Now));
                        }
                    }
                }
                while (node.Endpoint.TryPollTransmit(buffer, address, out int length, out int addressLength))
                {
                    any = true;
                    Send(new WirePacket(buffer[..length], node.Address.ToArray(), address[..addressLength], Now), node);
                }
            }
        }
    }

    private void Send(WirePacket packet, SimulatedNode sender)
    {
        Wire.Add(packet);
        if (Tap is { } tap && !tap(packet))
        {
            return;
        }
        SimulatedNode? receiver = _nodes.FirstOrDefault(n => n.Address.AsSpan().SequenceEqual(packet.To));
        LinkConditions link = receiver is not null && _links.TryGetValue((sender.Name, receiver.Name), out LinkConditions? own) ? own : Conditions;
        if (packet.Packet.Length > link.Mtu || _random.NextDouble() < link.Loss)
        {
            return;
        }
        int copies = 1 + (_random.NextDouble() < link.Duplication ? _random.Next(1, link.MaxExtraCopies + 1) : 0);
        for (int i = 0; i < copies; i++)
        {
            TimeSpan delay = link.Delay + link.Jitter * _random.NextDouble();
            _inFlight.Enqueue(new InFlight(packet.Packet, packet.From, packet.To), (Now + delay, _sequence++));
        }
    }

    public void Dispose()
    {
        foreach (SimulatedNode node in _nodes)
        {
            node.Dispose();
        }
    }

    private readonly record struct InFlight(byte[] Packet, byte[] From, byte[] To);
}

internal sealed record WirePacket(byte[] Packet, byte[] From, byte[] To, TimeSpan At)
{
    public DatagramPacketType Type => (DatagramPacketType)Packet[0];
}
