namespace OssuaryNet;

/// <summary>
/// Whether handshakes add an ML-KEM-768 exchange to X25519 (Noise XXhfs and IKhfs), so that traffic recorded today
/// stays secret if a large quantum computer later breaks X25519. Authentication stays classical (X25519 static keys).
/// </summary>
public enum OssuaryPostQuantum
{
    /// <summary>Classical handshakes only (XX, IK). A server refuses hybrid ones with <c>UnsupportedPattern</c>.</summary>
    Off = 0,
    /// <summary>
    /// A client offers the hybrid handshake; <see cref="OssuaryClient.ConnectAsync(string, int, OssuaryClientOptions, TimeSpan?, CancellationToken)"/> falls back to a
    /// classical one only when the server does not support it and the client's trust store has no record of this
    /// server speaking the hybrid handshake (first contact); otherwise the fallback is refused with
    /// <see cref="OssuaryErrorCode.PostQuantumDowngrade"/>. A server accepts both.
    /// </summary>
    Preferred = 1,
    /// <summary>Hybrid handshakes only, never a fallback. A server refuses classical ones with <c>UnsupportedPattern</c>.</summary>
    Required = 2,
}
