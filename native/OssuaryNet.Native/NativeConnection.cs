using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Native;

/// <summary>
/// What one C handle holds: the settings collected by the ossuary_set_* calls, then, from the first handshake call
/// on, the <see cref="OssuaryConnection"/> built from them. Calls on one handle are serialised by its lock.
/// </summary>
internal sealed class NativeConnection : IDisposable
{
    private readonly NativeTrustChoices _trust = new();
    private OssuaryKeyPair? _key;
    private OssuaryPublicKey? _serverKey;
    private TimeSpan _handshakeTimeout = TimeSpan.FromSeconds(30);
    private TimeSpan _startTime;
    private string _context = "";
    private string? _endpoint;
    private OssuarySuite _suite = OssuarySuite.ChaChaPolyBlake2b;
    private OssuaryPostQuantum _postQuantum = OssuaryPostQuantum.Off;
    private OssuaryConnection? _connection;

    public NativeConnection(bool isServer) => IsServer = isServer;

    public bool IsServer { get; }

    public OssuaryConnection? Started => _connection;

    public void SetSecretKey(ReadOnlySpan<byte> secretKey)
    {
        RequireConfigurable();
        _key?.Dispose();
        _key = OssuaryKeyPair.FromPrivateKey(secretKey);
    }

    public void SetServerKey(OssuaryPublicKey key)
    {
        RequireConfigurable();
        if (IsServer)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Only a client can pin a server key.");
        }
        _serverKey = key;
    }

    public void AddAuthorizedKey(OssuaryPublicKey key)
    {
        RequireConfigurable();
        _trust.AddAuthorizedKey(key);
    }

    public void SetCallback(nint callback, nint userData)
    {
        RequireConfigurable();
        _trust.SetCallback(callback, userData);
    }

    public void SetKnownHosts(string path, TofuPolicy policy)
    {
        RequireConfigurable();
        _trust.SetKnownHosts(path, policy);
    }

    public void SetAcceptAny()
    {
        RequireConfigurable();
        _trust.SetAcceptAny();
    }

    public void SetDeferred()
    {
        RequireConfigurable();
        _trust.SetDeferred();
    }

    public void SetHandshakeTimeout(TimeSpan timeout)
    {
        RequireConfigurable();
        _handshakeTimeout = timeout;
    }

    public void SetStartTime(TimeSpan now)
    {
        RequireConfigurable();
        _startTime = now;
    }

    public void SetContext(string context)
    {
        RequireConfigurable();
        _context = context;
    }

    public void SetEndpoint(string endpoint)
    {
        RequireConfigurable();
        _endpoint = endpoint;
    }

    public void SetSuite(OssuarySuite suite)
    {
        RequireConfigurable();
        _suite = Enum.IsDefined(suite) ? suite : throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown suite {(int)suite}.");
    }

    public void SetPostQuantum(OssuaryPostQuantum policy)
    {
        RequireConfigurable();
        _postQuantum = Enum.IsDefined(policy) ? policy : throw new BoundaryException(NativeStatus.InvalidArgument, $"Unknown post-quantum policy {(int)policy}.");
    }

    /// <summary>The connection, built on first use from the settings.</summary>
    public OssuaryConnection Start()
    {
        if (_connection is not null)
        {
            return _connection;
        }
        if (_key is null)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Set a secret key (ossuary_set_secret_key) before the handshake.");
        }
        PeerVerifier verifier = ChooseVerifier();
        if (IsServer)
        {
            _connection = OssuaryConnection.CreateServer(new OssuaryServerOptions
            {
                StaticKeyPair = _key,
                PeerVerifier = verifier,
                ApplicationContext = _context,
                HandshakeTimeout = _handshakeTimeout,
                PostQuantum = _postQuantum,
            }, _endpoint, _startTime);
        }
        else
        {
            // A key known hosts recorded for the endpoint is pinned by the core (IK), as for every client.
            _connection = OssuaryConnection.CreateClient(new OssuaryClientOptions
            {
                StaticKeyPair = _key,
                PeerVerifier = verifier,
                ServerKey = _serverKey,
                Suite = _suite,
                ApplicationContext = _context,
                HandshakeTimeout = _handshakeTimeout,
                PostQuantum = _postQuantum,
            }, _endpoint, _startTime);
        }
        return _connection;
    }

    /// <summary>The application deciding itself stands for the verifier with a marker the handshake loop knows.</summary>
    private PeerVerifier ChooseVerifier() =>
        _trust.Choose(_serverKey,
            "No peer verification is configured: add authorized keys, pin the server key, set a callback or known hosts, call ossuary_set_deferred_verification to decide yourself, or call ossuary_set_accept_any_peer.")
        ?? DeferredVerification.Instance;

    private void RequireConfigurable()
    {
        if (_connection is not null)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Settings cannot change once the handshake has started.");
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _key?.Dispose();
    }
}
