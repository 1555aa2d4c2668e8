using OssuaryNet.Identity;
using OssuaryNet.Noise;

namespace OssuaryNet.Datagram;

/// <summary>
/// A responder's state for one Initiation it took: what it answered (kept so that a duplicate Initiation gets the same
/// Response again without any new Diffie-Hellman) and, until the handshake ends, the Noise state.
/// </summary>
internal sealed class HalfOpenHandshake : IDisposable
{
    public HalfOpenHandshake(uint localId, uint initiatorId, in DatagramAddress address, in DatagramAddress source, UInt128 mac1, byte pattern, HandshakeState noise, TimeSpan now)
    {
        LocalId = localId;
        InitiatorId = initiatorId;
        Address = address;
        Source = source;
        Mac1 = mac1;
        Pattern = pattern;
        Noise = noise;
        CreatedAt = now;
    }

    /// <summary>The responder's session id: the Finish (XX) and the first Data packets (IK) carry it.</summary>
    public uint LocalId { get; }

    public uint InitiatorId { get; }

    public DatagramAddress Address { get; }

    /// <summary>The source <see cref="Address"/> belongs to, under which the per-source limits count this entry.</summary>
    public DatagramAddress Source { get; }

    /// <summary>The mac1 of the Initiation answered, which identifies its duplicates.</summary>
    public UInt128 Mac1 { get; }

    public byte Pattern { get; }

    public TimeSpan CreatedAt { get; }

    public HalfOpenStage Stage { get; set; }

    /// <summary>XX: until the Finish is read; IK: until the verdict. Null once the keys were split.</summary>
    public HandshakeState? Noise { get; private set; }

    /// <summary>The Response as sent, for duplicates.</summary>
    public byte[]? Response { get; set; }

    /// <summary>The initiator's key, once a message authenticated it.</summary>
    public OssuaryPublicKey? PeerKey { get; set; }

    /// <summary>While a verdict is awaited: the handle the caller answers with.</summary>
    public DatagramHandle PendingHandle { get; set; }

    /// <summary>IK first contact awaiting confirmation: the keys the Response made, owned by this entry until a packet under them makes the connection.</summary>
    public DatagramKeyPair? Keys { get; set; }

    /// <summary>IK: the early data of the Initiation, held until the keys are confirmed (null when none).</summary>
    public byte[]? EarlyData { get; set; }

    /// <summary>IK: a rekey of this connection (its peer key matched); no verdict is asked again.</summary>
    public DatagramConnection? Rekeying { get; set; }

    /// <summary>The Initiation carried a valid token: the initiator receives at <see cref="Address"/>.</summary>
    public bool AddressProven { get; set; }

    /// <summary>XX: the Finish as received (a duplicate of it gets a keepalive) and where it came from.</summary>
    public byte[]? AcceptedFinish { get; set; }

    public DatagramAddress FinishAddress { get; set; }

    public bool Removed { get; set; }

    /// <summary>Takes the Noise state out (to split or discard it); the entry keeps only its Response.</summary>
    public HandshakeState? TakeNoise()
    {
        HandshakeState? noise = Noise;
        Noise = null;
        return noise;
    }

    /// <summary>Hands the confirmed keys to the connection they now belong to.</summary>
    public DatagramKeyPair TakeKeys()
    {
        DatagramKeyPair keys = Keys!;
        Keys = null;
        return keys;
    }

    public void Dispose()
    {
        Noise?.Dispose();
        Noise = null;
        Keys?.Dispose();
        Keys = null;
        if (EarlyData is { } early)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(early);
            EarlyData = null;
        }
    }
}
