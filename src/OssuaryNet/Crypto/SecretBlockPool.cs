using System.Security.Cryptography;

namespace OssuaryNet.Crypto;

/// <summary>
/// Small pools of pinned blocks for key memory: one for handshakes, one for established connections' transport keys,
/// one for the ML-KEM-768 keys of hybrid handshakes.
/// Blocks are wiped when returned, so a rented block is all zeros and a block in a pool holds no secret.
/// </summary>
/// <remarks>
/// Why pool: pinned arrays live on the pinned object heap, which only a full (gen 2) collection reclaims, so a server
/// that allocated fresh key memory for every handshake or connection would grow that heap between full collections.
/// With the pools, a steady stream of connections reuses the same few blocks. One block is cached per thread (no synchronisation); a
/// shared array of slots, taken and filled with interlocked exchanges, serves handshakes that move between threads.
/// When the pool is full a returned block is simply dropped (already wiped) for the collector.
/// </remarks>
internal sealed class SecretBlockPool
{
    public const int HandshakeBlockSize = 352, TransportBlockSize = 128;

    /// <summary>A hybrid handshake's KEM keys: this side's public (1184) and secret (2400) key and the peer's public key (1184).</summary>
    public const int KemBlockSize = 1184 + 2400 + 1184;

    /// <summary>A handshake's key pairs, chaining key, hash and cipher key.</summary>
    public static SecretBlockPool Handshake { get; } = new(HandshakeBlockSize);

    /// <summary>An established connection's two transport keys and its handshake hash (up to 64 bytes).</summary>
    public static SecretBlockPool Transport { get; } = new(TransportBlockSize);

    /// <summary>A hybrid handshake's ML-KEM-768 keys (without the pool, each hybrid handshake would put 4.7 KB on the pinned heap and soon force a gen 2 collection).</summary>
    public static SecretBlockPool Kem { get; } = new(KemBlockSize);

    // One block cached per thread and pool (a generic-free pair of fields, as [ThreadStatic] needs a static).
    [ThreadStatic]
    private static byte[]? t_cachedHandshake, t_cachedTransport, t_cachedKem;

    private readonly byte[]?[] _shared = new byte[]?[Math.Max(8, 4 * Environment.ProcessorCount)];

    private SecretBlockPool(int blockSize) => BlockSize = blockSize;

    /// <summary>The size of every block of this pool.</summary>
    public int BlockSize { get; }

    private ref byte[]? Cached
    {
        get
        {
            if (BlockSize == HandshakeBlockSize)
            {
                return ref t_cachedHandshake;
            }
            if (BlockSize == TransportBlockSize)
            {
                return ref t_cachedTransport;
            }
            return ref t_cachedKem;
        }
    }

    /// <summary>A zeroed pinned block of <see cref="BlockSize"/> bytes.</summary>
    public byte[] Rent()
    {
        ref byte[]? cached = ref Cached;
        byte[]? block = cached;
        if (block is not null)
        {
            cached = null;
            return block;
        }
        for (int i = 0; i < _shared.Length; i++)
        {
            block = Interlocked.Exchange(ref _shared[i], null);
            if (block is not null)
            {
                return block;
            }
        }
        return SecretMemory.Allocate(BlockSize);
    }

    /// <summary>Wipes <paramref name="block"/> and keeps it for reuse; the caller must hold no reference to it afterwards.</summary>
    public void Return(byte[] block)
    {
        if (block.Length != BlockSize)
        {
            throw new ArgumentException("The block does not come from this pool.", nameof(block));
        }
        CryptographicOperations.ZeroMemory(block);
        ref byte[]? cached = ref Cached;
        if (cached is null)
        {
            cached = block;
            return;
        }
        for (int i = 0; i < _shared.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _shared[i], block, null) is null)
            {
                return;
            }
        }
    }
}
