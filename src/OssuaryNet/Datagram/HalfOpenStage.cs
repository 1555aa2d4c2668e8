namespace OssuaryNet.Datagram;

/// <summary>Where a responder's half-open handshake stands.</summary>
internal enum HalfOpenStage
{
    /// <summary>XX: the Response was sent; the Finish is awaited.</summary>
    AwaitingFinish,
    /// <summary>The initiator's key is authenticated and awaits the caller's verdict; nothing was sent yet (IK) or no keys exist yet (XX).</summary>
    AwaitingVerdict,
    /// <summary>IK first contact: the verdict accepted and the Response went out; the keys wait here until a packet under them arrives (key confirmation), and no connection exists yet.</summary>
    AwaitingConfirmation,
    /// <summary>The handshake is over; the entry only answers duplicates of its Initiation until it expires.</summary>
    Answered,
}
