using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>
/// A Noise hash function (spec section 4.3) with the HMAC and HKDF the spec builds on it.
/// </summary>
/// <remarks>
/// HMAC-HASH is RFC 2104 over the hash: H((K ^ opad) || H((K ^ ipad) || text)). The spec's HKDF is
/// temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key, 0x01); output2 = HMAC(temp_key, output1 || 0x02);
/// output3 = HMAC(temp_key, output2 || 0x03). Keys handed to HMAC by Noise are always HASHLEN bytes,
/// which is never more than BLOCKLEN, so the "hash a long key first" branch of RFC 2104 never applies.
/// </remarks>
internal abstract class NoiseHash
{
    /// <summary>The largest HASHLEN of any supported hash, for stack buffers.</summary>
    public const int MaxHashLength = 64;
    private const int MaxBlockLength = 128;

    /// <summary>The name used in Noise protocol names, e.g. "BLAKE2b".</summary>
    public abstract string Name { get; }

    /// <summary>HASHLEN: output size in bytes.</summary>
    public abstract int HashLength { get; }

    /// <summary>BLOCKLEN: the compression block size in bytes, used for HMAC padding.</summary>
    public abstract int BlockLength { get; }

    /// <summary>HASH(a || b || c); <paramref name="output"/> is exactly HASHLEN bytes.</summary>
    public abstract void Hash(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, Span<byte> output);

    /// <summary>HMAC-HASH(key, data1 || data2) into HASHLEN bytes of <paramref name="output"/>.</summary>
    public void Hmac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2, Span<byte> output)
    {
        if (key.Length > BlockLength)
        {
            throw new ArgumentException("HMAC keys longer than the block are never used by Noise.", nameof(key));
        }
        Span<byte> pad = stackalloc byte[MaxBlockLength];
        Span<byte> inner = stackalloc byte[MaxHashLength];
        pad = pad[..BlockLength];
        inner = inner[..HashLength];
        try
        {
            FillPad(key, pad, 0x36);
            Hash(pad, data1, data2, inner);
            FillPad(key, pad, 0x5c);
            Hash(pad, inner, default, output[..HashLength]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(inner);
        }
    }

    /// <summary>
    /// HKDF(chainingKey, inputKeyMaterial) with two or three outputs of HASHLEN bytes each.
    /// <paramref name="output3"/> may be empty when only two are wanted. Outputs may alias the inputs.
    /// </summary>
    public void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output1, Span<byte> output2, Span<byte> output3)
    {
        int n = HashLength;
        Span<byte> tempKey = stackalloc byte[MaxHashLength];
        Span<byte> previous = stackalloc byte[MaxHashLength];
        Span<byte> next = stackalloc byte[MaxHashLength];
        tempKey = tempKey[..n];
        previous = previous[..n];
        next = next[..n];
        ReadOnlySpan<byte> one = [0x01];
        ReadOnlySpan<byte> two = [0x02];
        ReadOnlySpan<byte> three = [0x03];
        try
        {
            Hmac(chainingKey, inputKeyMaterial, default, tempKey);
            Hmac(tempKey, one, default, previous);
            Hmac(tempKey, previous, two, next);
            if (!output3.IsEmpty)
            {
                Hmac(tempKey, next, three, output3[..n]);
            }
            // Written last so that outputs aliasing the chaining key do not disturb the computation.
            previous.CopyTo(output1);
            next.CopyTo(output2);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(tempKey);
            CryptographicOperations.ZeroMemory(previous);
            CryptographicOperations.ZeroMemory(next);
        }
    }

    private static void FillPad(ReadOnlySpan<byte> key, Span<byte> pad, byte value)
    {
        pad.Fill(value);
        for (int i = 0; i < key.Length; i++)
        {
            pad[i] ^= key[i];
        }
    }
}
