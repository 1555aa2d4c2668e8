namespace OssuaryNet.Datagram;

/// <summary>What the receiver should know of a datagram it took from <see cref="DatagramEndpoint.TryReceive"/>.</summary>
[Flags]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Justification = "A [Flags] enum, named as System.Net.Sockets.SocketFlags is.")]
public enum DatagramReceiveFlags
{
    /// <summary>An ordinary datagram under the session's transport keys.</summary>
    None = 0,
    /// <summary>
    /// 0-RTT data from an IK Initiation: authenticated as the peer's, but an attacker who recorded the Initiation could
    /// have it delivered again to a responder that lost its record of the peer's timestamps (a restart). Act on it only
    /// if doing so twice is harmless.
    /// </summary>
    EarlyData = 1,
}
