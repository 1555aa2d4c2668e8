using OssuaryNet.Identity;

namespace OssuaryNet.Datagram;

/// <summary>How a <see cref="DatagramEndpoint"/> behaves. The endpoint copies what it needs when it is created.</summary>
public sealed class DatagramOptions
{
    /// <summary>This node's static key pair (required). The endpoint does not own it: dispose it after the endpoint.</summary>
    public OssuaryKeyPair? Identity { get; set; }

    /// <summary>The cipher suite; both ends must use the same (it is bound into every handshake).</summary>
    public OssuarySuite Suite { get; set; } = OssuarySuite.ChaChaPolyBlake2b;

    /// <summary>
    /// A label both ends agree on out of band (an application name). It keys the mac1 of XX Initiations, which is then a
    /// garbage filter rather than a proof of anything, and is bound into every handshake.
    /// </summary>
    public string ServiceLabel { get; set; } = "ossuary";

    /// <summary>Whether Initiations from other nodes are answered (a listener). Off: the endpoint only connects.</summary>
    public bool AcceptConnections { get; set; }

    /// <summary>When to ask initiators for a token before any Diffie-Hellman.</summary>
    public DatagramAddressValidation AddressValidation { get; set; } = DatagramAddressValidation.UnderLoad;

    /// <summary>Whether early (0-RTT) data in IK Initiations is delivered, flagged <see cref="DatagramReceiveFlags.EarlyData"/>. Off: it is dropped and counted.</summary>
    public bool AcceptEarlyData { get; set; }

    /// <summary>The largest packet this endpoint sends or takes, headers included (at least 1200, at most 65507).</summary>
    public int MaxDatagramSize { get; set; } = 1200;

    /// <summary>The network's knowledge of a node's key from its address, used by <see cref="DatagramEndpoint.Connect"/> when no key is given.</summary>
    public PublicKeyLookup? ObtainPublicKey { get; set; }

    /// <summary>Whether an authenticated packet from a new address moves the peer there (roaming). Off: such packets are still delivered, the address stays.</summary>
    public bool AllowRoaming { get; set; } = true;

    /// <summary>Sends a keepalive when nothing was sent for this long (for peers behind NAT: 25 s); null: off.</summary>
    public TimeSpan? PersistentKeepalive { get; set; }

    /// <summary>Half-open handshakes held at once (default 4096); the endpoint counts as under load from one eighth of it.</summary>
    public int MaxHalfOpen { get; set; } = 4096;

    /// <summary>Half-open handshakes held for one source (default 8): one address, or one IP or IPv6 prefix with <see cref="AddressFormat"/>.</summary>
    public int MaxHalfOpenPerAddress { get; set; } = 8;

    /// <summary>How the per-source limits group addresses: opaque (each address a source, the default) or socket addresses grouped by IP.</summary>
    public DatagramAddressFormat AddressFormat { get; set; }

    /// <summary>With <see cref="DatagramAddressFormat.SocketAddress"/>, the IPv6 prefix length (1 to 128 bits, default 64) that makes one source: one host usually holds a whole /64.</summary>
    public int Ipv6SourcePrefixLength { get; set; } = 64;

    /// <summary>Connections a responder holds for one source (null, the default: a quarter of <see cref="MaxConnections"/>).</summary>
    public int? MaxConnectionsPerSource { get; set; }

    /// <summary>Connections a responder holds for one peer static key (null, the default: a quarter of <see cref="MaxConnections"/>).</summary>
    public int? MaxConnectionsPerPeer { get; set; }

    /// <summary>
    /// How long a responder keeps a connection on which the peer has sent no datagram yet (default 60 s; null: no
    /// limit). Such a connection is also the first to give its place to a newcomer when a limit is reached.
    /// </summary>
    public TimeSpan? UnusedConnectionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Post-quantum hybrid handshakes (XXhfs, IKhfs: ML-KEM-768 beside X25519). Off by default. An initiator with
    /// <see cref="OssuaryPostQuantum.Preferred"/> or <see cref="OssuaryPostQuantum.Required"/> starts every handshake
    /// hybrid and never falls back (datagram mode has no refusal message to fall back on); a responder with Preferred
    /// accepts both kinds, with Required only hybrid ones. Hybrid Initiations are larger than 1200 bytes, so both sides
    /// need <see cref="MaxDatagramSize"/> of at least <see cref="MinHybridDatagramSize"/>.
    /// </summary>
    public OssuaryPostQuantum PostQuantum { get; set; }

    /// <summary>The smallest <see cref="MaxDatagramSize"/> that carries hybrid Initiations: an IKhfs one with the longest token is 1374 bytes, leaving 26 for early data.</summary>
    public const int MinHybridDatagramSize = 1400;

    /// <summary>Connections held at once, in both roles (default 16384): beyond, handshakes that would make a new one are dropped and counted, and <see cref="DatagramEndpoint.Connect"/> throws. Rekeys of existing connections are not affected.</summary>
    public int MaxConnections { get; set; } = 16384;

    /// <summary>Initiations per second above which the endpoint counts as under load (default 1000).</summary>
    public int LoadInitiationsPerSecond { get; set; } = 1000;

    /// <summary>Datagrams a connection holds for <see cref="DatagramEndpoint.TryReceive"/> (default 256); beyond, new ones are dropped and counted.</summary>
    public int ReceiveQueueLimit { get; set; } = 256;

    /// <summary>
    /// The wall-clock time at which the <c>now</c> passed to the constructor was taken. IK Initiations carry
    /// this plus the time elapsed since, so that a responder can refuse a replayed one even after this node restarts;
    /// the endpoint never reads a clock itself. Leave it at the Unix epoch only where no node restarts (tests).
    /// </summary>
    public DateTimeOffset WallClockAtStart { get; set; } = DateTimeOffset.UnixEpoch;

    /// <summary>A copy, for a wrapper that sets what it owns (the wall clock, the address format) without touching the caller's options.</summary>
    internal DatagramOptions Copy() => (DatagramOptions)MemberwiseClone();

    internal void Validate()
    {
        if (Identity is null)
        {
            throw new ArgumentException("A datagram endpoint needs an identity key pair.", nameof(Identity));
        }
        if (!Enum.IsDefined(Suite))
        {
            throw new ArgumentOutOfRangeException(nameof(Suite), Suite, "Not a suite of wire protocol v1.");
        }
        ArgumentException.ThrowIfNullOrEmpty(ServiceLabel, nameof(ServiceLabel));
        if (System.Text.Encoding.UTF8.GetByteCount(ServiceLabel) > 200)
        {
            throw new ArgumentException("A service label is at most 200 bytes of UTF-8.", nameof(ServiceLabel));
        }
        if (!Enum.IsDefined(AddressValidation))
        {
            throw new ArgumentOutOfRangeException(nameof(AddressValidation), AddressValidation, "Not an address validation policy.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDatagramSize, DatagramPacket.MinInitiationSize, nameof(MaxDatagramSize));
        if (!Enum.IsDefined(PostQuantum))
        {
            throw new ArgumentOutOfRangeException(nameof(PostQuantum), PostQuantum, "Not a post-quantum policy.");
        }
        if (PostQuantum != OssuaryPostQuantum.Off && MaxDatagramSize < MinHybridDatagramSize)
        {
            throw new ArgumentException($"Hybrid handshakes need MaxDatagramSize of at least {MinHybridDatagramSize} on both sides (their Initiations exceed 1200 bytes).", nameof(MaxDatagramSize));
        }
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxDatagramSize, DatagramPacket.MaxDatagramSize, nameof(MaxDatagramSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHalfOpen, 8, nameof(MaxHalfOpen));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHalfOpenPerAddress, 1, nameof(MaxHalfOpenPerAddress));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        if (!Enum.IsDefined(AddressFormat))
        {
            throw new ArgumentOutOfRangeException(nameof(AddressFormat), AddressFormat, "Not an address format.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(Ipv6SourcePrefixLength, 1, nameof(Ipv6SourcePrefixLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Ipv6SourcePrefixLength, 128, nameof(Ipv6SourcePrefixLength));
        if (MaxConnectionsPerSource is { } perSource)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(perSource, 1, nameof(MaxConnectionsPerSource));
        }
        if (MaxConnectionsPerPeer is { } perPeer)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(perPeer, 1, nameof(MaxConnectionsPerPeer));
        }
        CheckInterval(UnusedConnectionTimeout, nameof(UnusedConnectionTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(LoadInitiationsPerSecond, 1, nameof(LoadInitiationsPerSecond));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveQueueLimit, 1, nameof(ReceiveQueueLimit));
        CheckInterval(PersistentKeepalive, nameof(PersistentKeepalive));
    }

    /// <summary>The longest interval an option takes, so that no deadline computed from a valid time overflows.</summary>
    internal static readonly TimeSpan LongestInterval = TimeSpan.FromDays(1);

    /// <summary>The connections a responder holds per source and per peer when the options leave it to the default.</summary>
    internal int ConnectionsPerSource => MaxConnectionsPerSource ?? Math.Max(1, MaxConnections / 4);

    internal int ConnectionsPerPeer => MaxConnectionsPerPeer ?? Math.Max(1, MaxConnections / 4);

    private static void CheckInterval(TimeSpan? interval, string name)
    {
        if (interval is { } value && (value <= TimeSpan.Zero || value > LongestInterval))
        {
            throw new ArgumentOutOfRangeException(name, value, $"An interval is positive and at most {LongestInterval.TotalHours:0} hours.");
        }
    }
}
