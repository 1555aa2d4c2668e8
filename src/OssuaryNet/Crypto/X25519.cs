namespace OssuaryNet.Crypto;

/// <summary>Noise's "25519" DH function (spec section 4.1), through libsodium.</summary>
internal static class X25519
{
    /// <summary>DHLEN, and the size of public and private keys.</summary>
    public const int KeySize = 32;

    [ThreadStatic]
    private static long t_agreements;

    /// <summary>
    /// DH operations this thread has asked for, whatever their outcome: the seam through which tests count the
    /// Diffie-Hellman a sans-I/O endpoint performs (it runs on its caller's thread).
    /// </summary>
    public static long AgreementsOnThisThread => t_agreements;

    /// <summary>Fills <paramref name="privateKey"/> with fresh randomness and derives <paramref name="publicKey"/>.</summary>
    public static void GenerateKeyPair(Span<byte> privateKey, Span<byte> publicKey)
    {
        Primitives.RandomBytes(privateKey);
        Primitives.X25519Base(privateKey, publicKey);
    }

    /// <summary>Derives the public key of a private key.</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey) => Primitives.X25519Base(privateKey, publicKey);

    /// <summary>
    /// DH(private, public). A peer key of low order would give an all-zero secret that carries no contribution
    /// from this side; libsodium detects it and the handshake fails with <see cref="OssuaryErrorCode.InvalidKey"/>.
    /// </summary>
    public static void Agree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> publicKey, Span<byte> sharedSecret)
    {
        t_agreements++;
        if (!Primitives.X25519(privateKey, publicKey, sharedSecret))
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidKey, "The peer's X25519 public key is a low-order point.");
        }
    }
}
