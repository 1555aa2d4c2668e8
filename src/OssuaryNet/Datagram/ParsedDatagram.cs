namespace OssuaryNet.Datagram;

/// <summary>
/// A datagram-mode packet whose layout has been checked (<see cref="DatagramPacket.TryParse"/>): the fields of its type,
/// as views into the received bytes. Nothing in it is authenticated yet.
/// </summary>
internal readonly ref struct ParsedDatagram
{
    public DatagramPacketType Type { get; init; }

    /// <summary>Initiation and Response: 1 for XX, 2 for IK.</summary>
    public byte Pattern { get; init; }

    /// <summary>The session id the sender chose for itself (Initiation: the initiator's; Response: the responder's).</summary>
    public uint SenderSession { get; init; }

    /// <summary>The session id the packet is addressed to (Response, CookieReply: the initiator's; Finish, Data: the receiver's).</summary>
    public uint ReceiverSession { get; init; }

    /// <summary>Data: the packet counter, also the AEAD nonce.</summary>
    public ulong Counter { get; init; }

    /// <summary>Initiation and CookieReply: the address-validation token (0 to 32 bytes).</summary>
    public ReadOnlySpan<byte> Token { get; init; }

    /// <summary>Initiation, Response and Finish: the Noise handshake message.</summary>
    public ReadOnlySpan<byte> NoiseMessage { get; init; }

    /// <summary>Initiation: the mac1 (last 16 bytes); CookieReply: the echo of the answered Initiation's mac1.</summary>
    public ReadOnlySpan<byte> Mac { get; init; }

    /// <summary>Initiation: every byte mac1 covers.</summary>
    public ReadOnlySpan<byte> MacCovered { get; init; }

    /// <summary>Data: the 16 header bytes, the AEAD's associated data.</summary>
    public ReadOnlySpan<byte> Header { get; init; }

    /// <summary>Data: the ciphertext and its 16-byte tag.</summary>
    public ReadOnlySpan<byte> Ciphertext { get; init; }
}
