namespace OssuaryNet.Crypto;

/// <summary>BLAKE2b with a 64-byte output, as the Noise spec's "BLAKE2b" hash (libsodium's generichash).</summary>
internal sealed class Blake2bHash : NoiseHash
{
    public static readonly Blake2bHash Instance = new();

    public override string Name => "BLAKE2b";
    public override int HashLength => 64;
    public override int BlockLength => 128;

    public override void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output)
        => Primitives.Blake2b(a, b, c, output);
}
