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

    /// <summary>Test hook: replaces the ephemeral key generator, to produce reproducible transcripts.</summary>
    internal EphemeralKeySource? EphemeralKeySource { get; set; }

    internal void Validate()
    {
        if (StaticKeyPair is null)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "StaticKeyPair is required.");
        }
        if (PeerVerifier is null)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "PeerVerifier is required (use PeerVerifier.AcceptAny to accept any peer explicitly).");
        }
        if (MaxRecordPayload is < WireFormat.MinRecordPayload or > WireFormat.MaxRecordPayload)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, $"MaxRecordPayload must be between {WireFormat.MinRecordPayload} and {WireFormat.MaxRecordPayload}.");
        }
        if (PaddingBlockSize < 0 || PaddingBlockSize > WireFormat.MaxRecordPayload)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "PaddingBlockSize must be between 0 and the maximum record payload.");
        }
        if (KeyUpdateAfterRecords < 1 || KeyUpdateAfterBytes < 1)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Key update limits must be positive.");
        }
        for (int i = 0; i < ApplicationProtocols.Count; i++)
        {
            string name = ApplicationProtocols[i];
            if (string.IsNullOrEmpty(name) || System.Text.Encoding.UTF8.GetByteCount(name) > 255)
            {
                throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Application protocol names must be 1 to 255 UTF-8 bytes.");
            }
        }
    }
}
