using OssuaryNet.Noise;

namespace OssuaryNet.Datagram;

/// <summary>
/// A handshake this side started (a first contact or a rekey): the Noise state, the Initiation exactly as sent (every
/// retransmission repeats its bytes), and its schedule. A CookieReply adds a token and the Initiation is rebuilt once
/// around the same Noise message.
/// </summary>
internal sealed class InitiatorHandshake : IDisposable
{
    public InitiatorHandshake(HandshakeState noise, uint localId, byte pattern, byte[] noiseMessage, byte[] mac1Key, TimeSpan now)
    {
        Noise = noise;
        LocalId = localId;
        Pattern = pattern;
        NoiseMessage = noiseMessage;
        Mac1Key = mac1Key;
        StartedAt = now;
    }

    public HandshakeState Noise { get; }

    /// <summary>This side's session id for the keys this handshake makes; the Response and CookieReply carry it.</summary>
    public uint LocalId { get; }

    /// <summary>1 (XX) or 2 (IK).</summary>
    public byte Pattern { get; }

    /// <summary>Noise message 1, kept to rebuild the Initiation around a token.</summary>
    public byte[] NoiseMessage { get; }

    public byte[] Mac1Key { get; }

    public TimeSpan StartedAt { get; }

    /// <summary>The Initiation as last built (with its mac1 in the last 16 bytes).</summary>
    public byte[] Initiation { get; set; } = [];

    /// <summary>Whether a CookieReply was taken since the Initiation was last sent (at most one is).</summary>
    public bool TookCookie { get; set; }

    /// <summary>When the Initiation was last sent; the Response's arrival minus this is an RTT sample.</summary>
    public TimeSpan LastSentAt { get; set; }

    /// <summary>Retransmissions so far.</summary>
    public int Retransmissions { get; set; }

    public TimeSpan NextRetransmitAt { get; set; }

    /// <summary>XX: the Response was read and the responder's key awaits the caller's verdict; no more retransmissions.</summary>
    public bool AwaitingVerdict { get; set; }

    /// <summary>XX: the responder's session id, from the Response.</summary>
    public uint RemoteId { get; set; }

    public ReadOnlySpan<byte> Mac1 => Initiation.AsSpan(Initiation.Length - DatagramPacket.MacSize);

    public void Dispose() => Noise.Dispose();
}
