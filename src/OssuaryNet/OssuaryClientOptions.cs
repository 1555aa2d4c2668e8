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

    /// <summary>
    /// Whether a key the peer verifier has on record for the server (known hosts) is used like <see cref="ServerKey"/>:
    /// an IK handshake to that key. Cleared only to learn, with XX, which key a server that failed IK now holds.
    /// </summary>
    internal bool UseRecordedServerKey { get; set; } = true;

    /// <summary>A shallow copy, so one connection can pin a key without changing shared options.</summary>
    internal OssuaryClientOptions Clone() => (OssuaryClientOptions)MemberwiseClone();

    /// <summary>
    /// Checks, before any I/O, what a connection to <paramref name="serverName"/> needs: the common settings, a known
    /// suite, and a server name when the verifier keys its records by one (known hosts), which would otherwise reject
    /// the server only after the handshake. A caller's mistake is an <see cref="ArgumentException"/>.
    /// </summary>
    internal void ValidateForConnection(string? serverName)
    {
        Validate();
        if (!Enum.IsDefined(Suite))
        {
            throw new ArgumentException($"Suite must be ChaChaPolyBlake2b or AesGcmSha256, not {(int)Suite}.");
        }
        if (serverName is null && PeerVerifier is Trust.KnownHosts)
        {
            throw new ArgumentException("A KnownHosts verifier records servers by name: give the server's name (\"host:port\").", nameof(serverName));
        }
    }
}
