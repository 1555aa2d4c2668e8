using System.Security.Cryptography;
using OssuaryNet.Crypto;

namespace OssuaryNet.Noise;

/// <summary>
/// The KEM half of a Noise HFS handshake: this side's "e1" key pair (initiator) or the peer's "e1" public key
/// (responder), in one pinned block from <see cref="SecretBlockPool.Kem"/> that <see cref="Dispose"/> wipes and
/// returns. Classical handshakes have none, so they carry no KEM memory at all.
/// </summary>
internal sealed class KemExchange : IDisposable
{
    private const int LocalPublic = 0, LocalSecret = MlKem768.PublicKeySize, RemotePublic = LocalSecret + MlKem768.SecretKeySize,
        BlockSize = RemotePublic + MlKem768.PublicKeySize;

    // Fails to compile (a constant that overflows) if the pool's blocks do not have this layout's size.
    private const uint LayoutMatchesPool = 1u / (SecretBlockPool.KemBlockSize == BlockSize ? 1u : 0u);

    private byte[] _block = SecretBlockPool.Kem.Rent();
    private readonly IKemSeedSource? _seeds;

    public KemExchange(IKemSeedSource? seeds) => _seeds = seeds;

    /// <summary>Whether the peer's "e1" key has been read (part of a handshake read's state, restored when one fails).</summary>
    public bool HasRemoteKey { get; set; }

    public ReadOnlySpan<byte> LocalPublicKey => _block.AsSpan(LocalPublic, MlKem768.PublicKeySize);

    /// <summary>Where a read "e1" key is decrypted to.</summary>
    public Span<byte> RemotePublicKeyDestination => _block.AsSpan(RemotePublic, MlKem768.PublicKeySize);

    /// <summary>A fresh "e1" key pair (from the seed source when there is one).</summary>
    public void GenerateKeyPair()
    {
        Span<byte> seed = stackalloc byte[_seeds is null ? 0 : MlKem768.KeyPairSeedSize];
        try
        {
            _seeds?.KeyPairSeed(seed);
            MlKem768.GenerateKeyPair(_block.AsSpan(LocalPublic, MlKem768.PublicKeySize), _block.AsSpan(LocalSecret, MlKem768.SecretKeySize), seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Encapsulates to the peer's "e1" key; throws <see cref="OssuaryErrorCode.InvalidKey"/> when that key fails FIPS 203's check.</summary>
    public void Encapsulate(Span<byte> ciphertext, Span<byte> sharedSecret)
    {
        if (!HasRemoteKey)
        {
            throw new InvalidOperationException("ekem1 before e1 in the pattern table.");
        }
        Span<byte> seed = stackalloc byte[_seeds is null ? 0 : MlKem768.EncapsulationSeedSize];
        try
        {
            _seeds?.EncapsulationSeed(seed);
            if (!MlKem768.TryEncapsulate(_block.AsSpan(RemotePublic, MlKem768.PublicKeySize), ciphertext, sharedSecret, seed))
            {
                throw new OssuaryException(OssuaryErrorCode.InvalidKey, "The peer's ML-KEM-768 public key is malformed (it fails the FIPS 203 key check).");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public void Decapsulate(ReadOnlySpan<byte> ciphertext, Span<byte> sharedSecret) =>
        MlKem768.Decapsulate(ciphertext, _block.AsSpan(LocalSecret, MlKem768.SecretKeySize), sharedSecret);

    /// <summary>The secret key has done its one decapsulation.</summary>
    public void WipeSecretKey() => CryptographicOperations.ZeroMemory(_block.AsSpan(LocalSecret, MlKem768.SecretKeySize));

    /// <summary>Wipes the keys and gives the block back; the exchange is unusable afterwards.</summary>
    public void Dispose()
    {
        if (_block.Length > 0)
        {
            SecretBlockPool.Kem.Return(_block); // wipes it
            _block = [];
        }
    }
}
