using OssuaryNet.Identity;

namespace OssuaryNet;

/// <summary>Settings of the initiating side.</summary>
public sealed class OssuaryClientOptions : OssuaryOptions
{
    /// <summary>
    /// The server's key when it is known in advance (pinned, or recorded by trust on first use): the handshake is then
    /// Noise IK, one round trip, and fails unless the server holds that key. Null: Noise XX, for first contact.
    /// </summary>
    public OssuaryPublicKey? ServerKey { get; set; }

    /// <summary>The cipher suite to propose. The server must allow it.</summary>
    public OssuarySuite Suite { get; set; } = OssuarySuite.ChaChaPolyBlake2b;

    /// <summary>
    /// Data sent encrypted inside the first handshake message (IK only, so <see cref="ServerKey"/> must be set).
    /// It is REPLAYABLE: an attacker who records the first message can deliver it to the server again, so use it
    /// only for idempotent requests. The server must opt in with <see cref="OssuaryServerOptions.AcceptEarlyData"/>,
    /// otherwise the handshake fails with <see cref="OssuaryErrorCode.EarlyDataRejected"/>.
    /// </summary>
    public ReadOnlyMemory<byte> EarlyData { get; set; }

    /// <summary>A shallow copy, so one connection can pin a key without changing shared options.</summary>
    internal OssuaryClientOptions Clone() => (OssuaryClientOptions)MemberwiseClone();
}
