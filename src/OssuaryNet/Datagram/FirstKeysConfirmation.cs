namespace OssuaryNet.Datagram;

/// <summary>
/// An initiator's first keys of a connection, not yet confirmed by the responder: what the initiator repeats until a
/// packet from the responder arrives under them (the responder makes its connection only on a packet under the new
/// keys, and answers it). XX repeats its Finish byte for byte; IK sends a fresh keepalive each time.
/// </summary>
internal sealed class FirstKeysConfirmation
{
    public FirstKeysConfirmation(byte[]? finish, TimeSpan firstRepeatAt)
    {
        Finish = finish;
        NextAt = firstRepeatAt;
    }

    /// <summary>XX: the Finish as sent; IK: null (a keepalive is sent instead).</summary>
    public byte[]? Finish { get; }

    /// <summary>Repeats so far.</summary>
    public int Repeats { get; set; }

    /// <summary>When the next repeat is due.</summary>
    public TimeSpan NextAt { get; set; }
}
