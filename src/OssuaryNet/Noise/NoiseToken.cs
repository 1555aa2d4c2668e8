namespace OssuaryNet.Noise;

/// <summary>The tokens of a Noise message pattern (spec section 7.1).</summary>
internal enum NoiseToken : byte
{
    /// <summary>Send or receive an ephemeral public key.</summary>
    E,
    /// <summary>Send or receive a static public key (encrypted once a key exists).</summary>
    S,
    /// <summary>DH(ephemeral, remote ephemeral).</summary>
    EE,
    /// <summary>DH between the initiator's ephemeral and the responder's static key.</summary>
    ES,
    /// <summary>DH between the initiator's static and the responder's ephemeral key.</summary>
    SE,
    /// <summary>DH(static, remote static).</summary>
    SS,
    /// <summary>Mix in the next pre-shared key.</summary>
    Psk,
    /// <summary>Noise HFS: send or receive a fresh KEM public key (EncryptAndHash).</summary>
    E1,
    /// <summary>Noise HFS: encapsulate to the peer's "e1" key, send the ciphertext (EncryptAndHash), then MixKey the shared secret.</summary>
    Ekem1,
}
