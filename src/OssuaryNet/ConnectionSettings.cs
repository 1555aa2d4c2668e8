using System.Collections.Immutable;
using OssuaryNet.Identity;
using OssuaryNet.Noise;
using OssuaryNet.Trust;

namespace OssuaryNet;

/// <summary>
/// An immutable, validated snapshot of <see cref="OssuaryOptions"/>, taken when a connection is created (as
/// <see cref="System.Net.Security.SslStream"/> snapshots its authentication options): changing an options object
/// afterwards affects only connections created later, never a live one.
/// </summary>
internal sealed class ConnectionSettings
{
    private ConnectionSettings(OssuaryOptions options)
    {
        StaticKeyPair = options.StaticKeyPair!;
        PeerVerifier = options.PeerVerifier!;
        ApplicationContext = options.ApplicationContext;
        ApplicationProtocols = [.. options.ApplicationProtocols];
        MaxRecordPayload = options.MaxRecordPayload;
        PaddingBlockSize = options.PaddingBlockSize;
        KeyUpdateAfterRecords = options.KeyUpdateAfterRecords;
        KeyUpdateAfterBytes = options.KeyUpdateAfterBytes;
        HandshakeTimeout = options.HandshakeTimeout;
        EphemeralKeySource = options.EphemeralKeySource;
        PostQuantum = options.PostQuantum;
    }

    public OssuaryKeyPair StaticKeyPair { get; }
    public PeerVerifier PeerVerifier { get; }
    public string ApplicationContext { get; }
    public ImmutableArray<string> ApplicationProtocols { get; }
    public int MaxRecordPayload { get; }
    public int PaddingBlockSize { get; }
    public long KeyUpdateAfterRecords { get; }
    public long KeyUpdateAfterBytes { get; }
    public TimeSpan HandshakeTimeout { get; private set; }
    public EphemeralKeySource? EphemeralKeySource { get; }
    public OssuaryPostQuantum PostQuantum { get; }

    // Client only.
    public OssuaryPublicKey? ServerKey { get; private init; }
    public OssuarySuite Suite { get; private init; }
    public ReadOnlyMemory<byte> EarlyData { get; private init; }

    // Server only.
    public ImmutableArray<OssuarySuite> AllowedSuites { get; private init; } = [];
    public ImmutableArray<OssuaryHandshakePattern> AllowedPatterns { get; private init; } = [];
    public bool AcceptEarlyData { get; private init; }

    private ConnectionSettings? _lastOverride;

    /// <summary>
    /// These settings with another handshake timeout (a stream's override), or themselves for null. The last such copy
    /// is kept, since a listener asks for the same one for every connection.
    /// </summary>
    public ConnectionSettings WithHandshakeTimeout(TimeSpan? timeout)
    {
        if (timeout is not { } value || value == HandshakeTimeout)
        {
            return this;
        }
        if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "A handshake timeout must be positive, or Timeout.InfiniteTimeSpan.");
        }
        if (_lastOverride is { } last && last.HandshakeTimeout == value)
        {
            return last;
        }
        var copy = (ConnectionSettings)MemberwiseClone(); // every other field is immutable and shared
        copy.HandshakeTimeout = value;
        copy._lastOverride = null;
        return _lastOverride = copy;
    }

    /// <summary>
    /// Snapshots client options. The server key is the pinned one, or else the key the verifier has recorded for
    /// <paramref name="serverName"/> (known hosts): either way a known key means an IK handshake.
    /// </summary>
    public static ConnectionSettings ForClient(OssuaryClientOptions options, string? serverName)
    {
        OssuaryPublicKey? serverKey = options.ServerKey;
        if (serverKey is null && options.UseRecordedServerKey && serverName is not null && options.PeerVerifier is { } verifier)
        {
            serverKey = verifier.RecordedKeyFor(serverName);
        }
        if (options.LastSnapshot is { } last && last.MatchesCommon(options) && last.ServerKey == serverKey && last.Suite == options.Suite
            && last.EarlyData.Span.SequenceEqual(options.EarlyData.Span))
        {
            return last;
        }
        options.Validate();
        var settings = new ConnectionSettings(options)
        {
            ServerKey = serverKey,
            Suite = options.Suite,
            EarlyData = options.EarlyData.ToArray(),
        };
        options.LastSnapshot = settings;
        return settings;
    }

    public static ConnectionSettings ForServer(OssuaryServerOptions options)
    {
        if (options.LastSnapshot is { } last && last.MatchesCommon(options) && last.AcceptEarlyData == options.AcceptEarlyData
            && SameItems(last.AllowedSuites, options.AllowedSuites) && SameItems(last.AllowedPatterns, options.AllowedPatterns))
        {
            return last;
        }
        options.Validate();
        var settings = new ConnectionSettings(options)
        {
            AllowedSuites = [.. options.AllowedSuites],
            AllowedPatterns = [.. options.AllowedPatterns],
            AcceptEarlyData = options.AcceptEarlyData,
        };
        options.LastSnapshot = settings;
        return settings;
    }

    /// <summary>
    /// Whether these settings still equal what <paramref name="options"/> holds now (shared parts). Many connections
    /// created from one unchanged options object then share one snapshot instead of copying it each time; a changed
    /// object gets a new one.
    /// </summary>
    private bool MatchesCommon(OssuaryOptions options) =>
        ReferenceEquals(StaticKeyPair, options.StaticKeyPair) && ReferenceEquals(PeerVerifier, options.PeerVerifier)
        && ApplicationContext == options.ApplicationContext && MaxRecordPayload == options.MaxRecordPayload
        && PaddingBlockSize == options.PaddingBlockSize && KeyUpdateAfterRecords == options.KeyUpdateAfterRecords
        && KeyUpdateAfterBytes == options.KeyUpdateAfterBytes && HandshakeTimeout == options.HandshakeTimeout
        && EphemeralKeySource == options.EphemeralKeySource && PostQuantum == options.PostQuantum && SameItems(ApplicationProtocols, options.ApplicationProtocols);

    /// <summary>Compares without an enumerator, so a reused snapshot costs no allocation.</summary>
    private static bool SameItems<T>(ImmutableArray<T> snapshot, IList<T> current)
    {
        if (snapshot.Length != current.Count)
        {
            return false;
        }
        for (int i = 0; i < snapshot.Length; i++)
        {
            if (!EqualityComparer<T>.Default.Equals(snapshot[i], current[i]))
            {
                return false;
            }
        }
        return true;
    }
}
