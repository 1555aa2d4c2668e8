namespace OssuaryNet.Noise;

/// <summary>
/// Computes DH(local static private key, remote static public key) for the "ss" token, so that the owner of the
/// static key can reuse results it already has (see <see cref="Identity.OssuaryKeyPair"/>).
/// </summary>
internal interface IStaticKeyAgreement
{
    /// <summary>Writes the 32-byte shared secret; throws <see cref="OssuaryException"/> for a low-order peer key.</summary>
    void Agree(ReadOnlySpan<byte> remoteStaticPublicKey, Span<byte> sharedSecret);
}
