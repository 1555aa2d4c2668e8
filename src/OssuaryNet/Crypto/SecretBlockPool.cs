using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>
/// A small pool of pinned blocks of <see cref="BlockSize"/> bytes for secrets that live only as long as a handshake.
/// Blocks are wiped when returned, so a rented block is all zeros and a block in the pool holds no secret.
/// </summary>
/// <remarks>
/// Why pool: pinned arrays live on the pinned object heap, which only a full (gen 2) collection reclaims, so a server
/// that allocated fresh key memory for every handshake would grow that heap between full collections. With the pool,
/// a steady stream of handshakes reuses the same few blocks. One block is cached per thread (no synchronisation); a
/// shared array of slots, taken and filled with interlocked exchanges, serves handshakes that move between threads.
/// When the pool is full a returned block is simply dropped (already wiped) for the collector.
/// </remarks>
internal static class SecretBlockPool
{
    /// <summary>The size of every block: a handshake's key pairs, chaining key, hash and cipher key.</summary>
    public const int BlockSize = 352;

    [ThreadStatic]
    private static byte[]? t_cached;

    private static readonly byte[]?[] Shared = new byte[]?[Math.Max(8, 4 * Environment.ProcessorCount)];

    /// <summary>A zeroed pinned block of <see cref="BlockSize"/> bytes.</summary>
    public static byte[] Rent()
    {
        byte[]? block = t_cached;
        if (block is not null)
        {
            t_cached = null;
            return block;
        }
        for (int i = 0; i < Shared.Length; i++)
        {
            block = Interlocked.Exchange(ref Shared[i], null);
            if (block is not null)
            {
                return block;
            }
        }
        return SecretMemory.Allocate(BlockSize);
    }

    /// <summary>Wipes <paramref name="block"/> and keeps it for reuse; the caller must hold no reference to it afterwards.</summary>
    public static void Return(byte[] block)
    {
        if (block.Length != BlockSize)
        {
            throw new ArgumentException("The block does not come from this pool.", nameof(block));
        }
        CryptographicOperations.ZeroMemory(block);
        if (t_cached is null)
        {
            t_cached = block;
            return;
        }
        for (int i = 0; i < Shared.Length; i++)
        {
            if (Interlocked.CompareExchange(ref Shared[i], block, null) is null)
            {
                return;
            }
        }
    }
}
