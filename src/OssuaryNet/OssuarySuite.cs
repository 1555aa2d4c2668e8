namespace OssuaryNet;

/// <summary>The cipher suites of wire protocol v1. The values are the suite byte of the clear header.</summary>
public enum OssuarySuite : byte
{
    /// <summary>X25519, ChaCha20-Poly1305, BLAKE2b: the default, fast everywhere without AES hardware.</summary>
    ChaChaPolyBlake2b = 1,
    /// <summary>X25519, AES-256-GCM, SHA-256: for environments that require AES and SHA-2.</summary>
    AesGcmSha256 = 2,
}
