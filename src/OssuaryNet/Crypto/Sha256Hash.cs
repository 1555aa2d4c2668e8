namespace OssuaryNet.Crypto;

/// <summary>SHA-256, as the Noise spec's "SHA256" hash (libsodium's crypto_hash_sha256).</summary>
internal sealed class Sha256Hash : NoiseHash
{
    public static readonly Sha256Hash Instance = new();

    public override string Name => "SHA256";
    public override int HashLength => 32;
    public override int BlockLength => 64;

    public override void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
        => Primitives.Sha256(a, b, c, output);
}
