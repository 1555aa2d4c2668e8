using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using OssuaryNet.Crypto;

namespace OssuaryNet.Bench;

/// <summary>Raw AEAD seal + open of one buffer, per backend: the ceiling for the record path.</summary>
[MemoryDiagnoser]
public class AeadBenchmarks
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _nonce = new byte[12];
    private IDisposable? _sodiumBackend, _chosenBackend; // what OssuaryNet's cipher states keep per key
    private ChaCha20Poly1305 _dotnetChaCha = null!;
    private AesGcm _dotnetAes = null!;
    private byte[] _plaintext = null!, _ciphertext = null!, _opened = null!;

    [Params(64, 256, 512, 1024, 2048, 4096, 16384, 65536)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dotnetChaCha = new ChaCha20Poly1305(_key);
        _dotnetAes = new AesGcm(_key, 16);
        _plaintext = RandomNumberGenerator.GetBytes(Size);
        _ciphertext = new byte[Size + 16];
        _opened = new byte[Size];
    }

    [Benchmark(Baseline = true, Description = "ChaCha20-Poly1305 (libsodium)")]
    public bool LibsodiumChaChaPoly()
    {
        ChaChaPolyCipher.LibsodiumOnly.Seal(_key, ref _sodiumBackend, 1, default, _plaintext, _ciphertext);
        return ChaChaPolyCipher.LibsodiumOnly.Open(_key, ref _sodiumBackend, 1, default, _ciphertext, _opened);
    }

    [Benchmark(Description = "ChaCha20-Poly1305 (OssuaryNet: chosen by size)")]
    public bool ChosenChaChaPoly()
    {
        ChaChaPolyCipher.Instance.Seal(_key, ref _chosenBackend, 1, default, _plaintext, _ciphertext);
        return ChaChaPolyCipher.Instance.Open(_key, ref _chosenBackend, 1, default, _ciphertext, _opened);
    }

    [Benchmark(Description = "ChaCha20-Poly1305 (.NET/OpenSSL)")]
    public void DotNetChaChaPoly()
    {
        _dotnetChaCha.Encrypt(_nonce, _plaintext, _ciphertext.AsSpan(0, Size), _ciphertext.AsSpan(Size), default);
        _dotnetChaCha.Decrypt(_nonce, _ciphertext.AsSpan(0, Size), _ciphertext.AsSpan(Size), _opened, default);
    }

    [Benchmark(Description = "AES-256-GCM (.NET/OpenSSL)")]
    public void DotNetAesGcm()
    {
        _dotnetAes.Encrypt(_nonce, _plaintext, _ciphertext.AsSpan(0, Size), _ciphertext.AsSpan(Size), default);
        _dotnetAes.Decrypt(_nonce, _ciphertext.AsSpan(0, Size), _ciphertext.AsSpan(Size), _opened, default);
    }
}
