namespace OssuaryNet.Datagram;

/// <summary>
/// The reason codes a close carries (a u16, little-endian on the wire; docs/PROTOCOL.md 12.4). Codes below 256 are the
/// protocol's and mean the same everywhere; 256 and above are the application's own.
/// </summary>
public static class DatagramCloseCodes
{
    /// <summary>No particular reason: the application is done with the connection.</summary>
    public const ushort Normal = 0;

    /// <summary>The application closed a connection that had been idle (a tunnel's flow timer, for instance).</summary>
    public const ushort Idle = 1;

    /// <summary>A responder closed a connection on which its peer sent no datagram in time (<see cref="DatagramOptions.UnusedConnectionTimeout"/>).</summary>
    public const ushort Unused = 2;

    /// <summary>A responder closed a connection its peer had not used yet, to make room for a newcomer at a limit.</summary>
    public const ushort Evicted = 3;

    /// <summary>The connection was opened only to check that the peer answers and holds the expected key (a tunnel's start-up probe).</summary>
    public const ushort Probe = 4;

    /// <summary>The endpoint is shutting down.</summary>
    public const ushort ShuttingDown = 5;

    /// <summary>The application had no room for the connection (a tunnel out of sockets, an accept queue full).</summary>
    public const ushort Busy = 6;

    /// <summary>The first code of the application's own range.</summary>
    public const ushort FirstApplicationCode = 256;
}
