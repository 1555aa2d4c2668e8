using BenchmarkDotNet.Attributes;
using OssuaryNet.Crypto;

namespace OssuaryNet.Bench;

/// <summary>
/// The ML-KEM-768 operations a hybrid handshake adds (one key generation and one decapsulation on the initiator, one
/// encapsulation on the responder), beside one X25519 Diffie-Hellman, which a classical handshake does eight or nine
/// of. All through libsodium 1.0.22.
/// </summary>
[MemoryDiagnoser]
public class KemBenchmarks
{
    private readonly byte[] _scalar = new byte[32], _point = new byte[32], _shared = new byte[32];
    private readonly byte[] _publicKey = new byte[MlKem768.PublicKeySize], _secretKey = new byte[MlKem768.SecretKeySize];
    private readonly byte[] _ciphertext = new byte[MlKem768.CiphertextSize];
    private readonly byte[] _freshPublicKey = new byte[MlKem768.PublicKeySize], _freshSecretKey = new byte[MlKem768.SecretKeySize];

    [GlobalSetup]
    public void Setup()
    {
        Primitives.RandomBytes(_scalar);
        Primitives.X25519Base(_scalar, _point);
        MlKem768.GenerateKeyPair(_publicKey, _secretKey);
        MlKem768.TryEncapsulate(_publicKey, _ciphertext, _shared);
    }

    [Benchmark(Baseline = true, Description = "X25519 DH")]
    public bool X25519() => Primitives.X25519(_scalar, _point, _shared);

    [Benchmark(Description = "ML-KEM-768 key generation")]
    public void KeyGeneration() => MlKem768.GenerateKeyPair(_freshPublicKey, _freshSecretKey);

    [Benchmark(Description = "ML-KEM-768 encapsulation")]
    public bool Encapsulation() => MlKem768.TryEncapsulate(_publicKey, _ciphertext, _shared);

    [Benchmark(Description = "ML-KEM-768 decapsulation")]
    public void Decapsulation() => MlKem768.Decapsulate(_ciphertext, _secretKey, _shared);
}
