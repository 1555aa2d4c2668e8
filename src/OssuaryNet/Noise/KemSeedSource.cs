namespace OssuaryNet.Noise;

/// <summary>
/// Fixes the randomness of Noise HFS's KEM operations, for test vectors only: the FIPS 203 key generation seed d ‖ z
/// (64 bytes) of an "e1" key pair, and the message m (32 bytes) of an "ekem1" encapsulation. Without one, both come
/// from the system CSPRNG.
/// </summary>
internal interface IKemSeedSource
{
    void KeyPairSeed(Span<byte> seed);

    void EncapsulationSeed(Span<byte> seed);
}
