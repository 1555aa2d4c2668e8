namespace OssuaryNet.Datagram;

/// <summary>When a responder asks an initiator to prove its address (a CookieReply) before doing any Diffie-Hellman.</summary>
public enum DatagramAddressValidation
{
    /// <summary>Only while under load (many half-open handshakes or a burst of Initiations): the default.</summary>
    UnderLoad = 0,
    /// <summary>Always: no Diffie-Hellman and no state for an initiator before it has echoed a token (+1 round trip).</summary>
    Always = 1,
    /// <summary>Never: for closed networks and tests; the half-open table's caps still hold.</summary>
    Never = 2,
}
