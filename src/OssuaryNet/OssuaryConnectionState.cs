namespace OssuaryNet;

/// <summary>The life cycle of a connection.</summary>
public enum OssuaryConnectionState
{
    /// <summary>The handshake is under way.</summary>
    Handshaking,
    /// <summary>Keys are established; at least one direction is open.</summary>
    Established,
    /// <summary>Both directions were closed with authenticated closes.</summary>
    Closed,
    /// <summary>A fatal error occurred; every later call reports it.</summary>
    Failed,
}
