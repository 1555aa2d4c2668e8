using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Protocol;
using OssuaryNet.Trust;

namespace OssuaryNet;

/// <summary>Settings shared by both roles. An options object may be shared by many connections.</summary>
public abstract class OssuaryOptions
{
    /// <summary>This side's static key pair (its identity). Required.</summary>
    public OssuaryKeyPair? StaticKeyPair { get; set; }

    /// <summary>Decides whether the peer's static key is trusted. Required: pass <see cref="PeerVerifier.AcceptAny"/> explicitly for encryption without authentication.</summary>
    public PeerVerifier? PeerVerifier { get; set; }

    /// <summary>
    /// A string both sides must agree on (e.g. "myapp/1 production"), bound into the handshake so that a key, or a
    /// connection, meant for another application or environment fails to authenticate. At most 1024 UTF-8 bytes.
    /// </summary>
    public string ApplicationContext { get; set; } = "";

    /// <summary>Application protocols this side speaks, most preferred first (like TLS ALPN). Empty means no negotiation.</summary>
    public IList<string> ApplicationProtocols { get; set; } = new List<string>();

    /// <summary>
    /// Post-quantum hybrid forward secrecy (ML-KEM-768 beside X25519, Noise XXhfs and IKhfs). Off by default in 1.x:
    /// a client that offers it to a server from before it fails (UnsupportedPattern), and only
    /// <see cref="OssuaryClient.ConnectAsync(string, int, OssuaryClientOptions, TimeSpan?, CancellationToken)"/> reconnects on its own; the ossuary tool defaults to Preferred. The
    /// hybrid handshake's first two messages are about 1.2 KB and 1.1 KB larger.
    /// </summary>
    public OssuaryPostQuantum PostQuantum { get; set; } = OssuaryPostQuantum.Off;

    /// <summary>The largest record payload this side accepts, announced to the peer: 64 to 65518 bytes, default 16384.</summary>
    public int MaxRecordPayload { get; set; } = WireFormat.DefaultRecordPayload;

    /// <summary>
    /// When positive, every record's encrypted inner length is padded up to a multiple of this many bytes (capped at the
    /// peer's record limit), to hide exact message sizes from observers. Default 0: no padding.
    /// </summary>
    public int PaddingBlockSize { get; set; }

    /// <summary>The sending direction rekeys (in-band key update) after this many records on one key. Default 2^20.</summary>
    public long KeyUpdateAfterRecords { get; set; } = 1L << 20;

    /// <summary>The sending direction rekeys after this many payload bytes on one key. Default 2^30 (1 GiB).</summary>
    public long KeyUpdateAfterBytes { get; set; } = 1L << 30;

    /// <summary>
    /// How long a handshake may take, from the connection's creation to its last message (a pause for peer
    /// verification included), before it fails with <see cref="OssuaryErrorCode.HandshakeTimeout"/>. Default 30 seconds;
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it. The connection reports it as <see cref="OssuaryConnection.NextTimeout"/>.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The snapshot last taken of these options, reused while they have not changed (see <see cref="ConnectionSettings"/>).</summary>
    internal ConnectionSettings? LastSnapshot { get; set; }

    /// <summary>Test hook: replaces the ephemeral key generator, to produce reproducible transcripts.</summary>
    internal EphemeralKeySource? EphemeralKeySource { get; set; }

    /// <summary>Checks the settings; a caller's mistake is an <see cref="ArgumentException"/>.</summary>
    internal void Validate()
    {
        if (StaticKeyPair is null)
        {
            throw new ArgumentException("StaticKeyPair is required.");
        }
        if (PeerVerifier is null)
        {
            throw new ArgumentException("PeerVerifier is required (use PeerVerifier.AcceptAny to accept any peer explicitly).");
        }
        if (!Enum.IsDefined(PostQuantum))
        {
            throw new ArgumentException($"PostQuantum must be Off, Preferred or Required, not {(int)PostQuantum}.");
        }
        if (MaxRecordPayload is < WireFormat.MinRecordPayload or > WireFormat.MaxRecordPayload)
        {
            throw new ArgumentException($"MaxRecordPayload must be between {WireFormat.MinRecordPayload} and {WireFormat.MaxRecordPayload}.");
        }
        if (PaddingBlockSize < 0 || PaddingBlockSize > WireFormat.MaxRecordPayload)
        {
            throw new ArgumentException("PaddingBlockSize must be between 0 and the maximum record payload.");
        }
        if (KeyUpdateAfterRecords < 1 || KeyUpdateAfterBytes < 1)
        {
            throw new ArgumentException("Key update limits must be positive.");
        }
        if (ApplicationContext is null || System.Text.Encoding.UTF8.GetByteCount(ApplicationContext) > Prologue.MaxContextBytes)
        {
            throw new ArgumentException($"ApplicationContext must be a string of at most {Prologue.MaxContextBytes} bytes of UTF-8.");
        }
        if (HandshakeTimeout <= TimeSpan.Zero && HandshakeTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException("HandshakeTimeout must be positive, or Timeout.InfiniteTimeSpan.");
        }
        for (int i = 0; i < ApplicationProtocols.Count; i++)
        {
            string name = ApplicationProtocols[i];
            if (string.IsNullOrEmpty(name) || System.Text.Encoding.UTF8.GetByteCount(name) > 255)
            {
                throw new ArgumentException("Application protocol names must be 1 to 255 UTF-8 bytes.");
            }
        }
    }
}
