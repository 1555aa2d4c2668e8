using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using OssuaryNet.Crypto;
using OssuaryNet.Noise;

namespace OssuaryNet.Bench;

/// <summary>
/// The sans-I/O record path (seal with Send, open with Receive, through the framing, in memory) against the raw AEAD
/// seal + open of the same size on the same backend, measured in the same run.
/// </summary>
[MemoryDiagnoser]
public class RecordPathBenchmarks
{
    private OssuaryConnection _client = null!, _server = null!;
    private NoiseCipher _rawCipher = null!;
    private byte[] _rawKey = null!;
    private IDisposable? _rawBackend;
    private byte[] _plaintext = null!, _wire = null!, _opened = null!, _rawCiphertext = null!;

    [Params(64, 1024, 16384, 65518)]
    public int Size { get; set; }

    [Params(OssuarySuite.ChaChaPolyBlake2b, OssuarySuite.AesGcmSha256)]
    public OssuarySuite Suite { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        OssuaryClientOptions clientOptions = Endpoints.ClientOptions(pin: true);
        clientOptions.Suite = Suite;
        clientOptions.MaxRecordPayload = OssuaryConnection.MaxRecordPayload;
        var serverOptions = new OssuaryServerOptions
        {
            StaticKeyPair = Endpoints.ServerKey,
            PeerVerifier = Endpoints.ServerOptions.PeerVerifier,
            MaxRecordPayload = OssuaryConnection.MaxRecordPayload,
        };
        _client = OssuaryConnection.CreateClient(clientOptions);
        _server = OssuaryConnection.CreateServer(serverOptions);
        byte[] buffer = new byte[70000];
        _client.Send(default, buffer, out _, out int written);
        _server.Receive(buffer.AsSpan(0, written), default, out _, out _);
        Endpoints.VerifyPending(_server);
        _server.Send(default, buffer, out _, out written);
        _client.Receive(buffer.AsSpan(0, written), default, out _, out _);
        Endpoints.VerifyPending(_client);
        if (_client.State != OssuaryConnectionState.Established || _server.State != OssuaryConnectionState.Established)
        {
            throw new InvalidOperationException("The benchmark's handshake did not complete.");
        }

        _rawCipher = Suite == OssuarySuite.ChaChaPolyBlake2b ? ChaChaPolyCipher.Instance : AesGcmCipher.Instance;
        _rawKey = RandomNumberGenerator.GetBytes(32);
        _plaintext = RandomNumberGenerator.GetBytes(Size);
        _wire = new byte[OssuaryConnection.GetFrameSize(Size)];
        _opened = new byte[Size + 1];
        _rawCiphertext = new byte[Size + 1 + 16];
    }

    [Benchmark(Baseline = true, Description = "raw AEAD seal+open (same backend, record-sized)")]
    public bool RawAead()
    {
        // The record's inner plaintext is the payload plus its type byte.
        _rawCipher.Seal(_rawKey, ref _rawBackend, 1, default, _opened.AsSpan(0, Size + 1), _rawCiphertext);
        return _rawCipher.Open(_rawKey, ref _rawBackend, 1, default, _rawCiphertext, _opened);
    }

    [Benchmark(Description = "OssuaryConnection Send+Receive")]
    public int RecordPath()
    {
        _client.Send(_plaintext, _wire, out _, out int written);
        _server.Receive(_wire.AsSpan(0, written), _opened, out _, out int plaintext);
        return plaintext;
    }
}
