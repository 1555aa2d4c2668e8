namespace OssuaryNet.Crypto;

/// <summary>A Noise cipher function (spec section 4.2): a factory of keys under one AEAD and nonce encoding.</summary>
internal abstract class NoiseCipher
{
    /// <summary>The name used in Noise protocol names, e.g. "ChaChaPoly".</summary>
    public abstract string Name { get; }

    /// <summary>Creates a key object holding a copy of the 32-byte <paramref name="key"/>.</summary>
    public abstract AeadKey CreateKey(ReadOnlySpan<byte> key);
}
