using OssuaryNet.Datagram;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Native;

/// <summary>
/// What one ossuary_dgram handle holds: the settings collected by the ossuary_dgram_set_* calls, then, from the first
/// call that takes time or packets, the <see cref="DatagramEndpoint"/> built from them. Calls on one handle are
/// serialised by its lock; a verification callback runs outside it.
/// </summary>
/// <remarks>
/// Events pass through a queue of this object rather than straight from the endpoint, because a handshake the
/// library judges itself (authorized keys, accept-any, a callback) must not reach the caller as
/// VerificationRequired: it is held back, judged, and only its outcome (Accepted, Connected or Closed) is seen.
/// </remarks>
internal sealed class NativeDatagramEndpoint : IDisposable
{
    private readonly DatagramOptions _options;
    private readonly TimeSpan _createdAt;
    private readonly NativeTrustChoices _trust = new();
    private readonly Queue<DatagramEvent> _events = new();
    private DatagramEndpoint? _endpoint;

    public NativeDatagramEndpoint(OssuaryKeyPair identity, bool acceptConnections, TimeSpan now)
    {
        // The one clock this library reads, once, as a default: IK Initiations carry wall-clock timestamps so that a
        // responder can refuse replays across restarts, and a C caller who forgot to set it would otherwise send
        // timestamps that go back to the epoch at every restart (refused as stale by every peer that saw a later one).
        _options = new DatagramOptions
        {
            Identity = identity,
            AcceptConnections = acceptConnections,
            WallClockAtStart = DateTimeOffset.UtcNow,
        };
        _createdAt = now;
    }

    /// <summary>The largest packet the endpoint sends or takes (a setting until it starts).</summary>
    public int MaxDatagramSize => _options.MaxDatagramSize;

    /// <summary>The verifier the library applies itself, or null when the application decides (deferred).</summary>
    public PeerVerifier? Verifier { get; private set; }

    /// <summary>Changes one option; a value the options refuse leaves the previous one in place.</summary>
    public void Set<T>(Func<DatagramOptions, T> get, Action<DatagramOptions, T> set, T value)
    {
        RequireConfigurable();
        T previous = get(_options);
        set(_options, value);
        try
        {
            _options.Validate();
        }
        catch (ArgumentException)
        {
            set(_options, previous);
            throw;
        }
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

    /// <summary>The endpoint, built on first use from the settings.</summary>
    public DatagramEndpoint Start()
    {
        if (_endpoint is not null)
        {
            return _endpoint;
        }
        Verifier = _trust.Choose(pinned: null,
            "No peer verification is configured: add authorized keys, set a callback, call ossuary_dgram_set_deferred_verification to decide yourself, or call ossuary_dgram_set_accept_any_peer.");
        _endpoint = new DatagramEndpoint(_options, _createdAt);
        return _endpoint;
    }

    /// <summary>The endpoint if built; null before the first call that builds it.</summary>
    public DatagramEndpoint? Started => _endpoint;

    /// <summary>
    /// Moves the endpoint's events to the caller's queue, except the verifications the library gives itself, which
    /// are returned for judging (outside the lock) and then <see cref="DatagramEndpoint.CompletePeerVerification"/>.
    /// </summary>
    /// <returns>The handshakes to judge, or null when there are none (the common case, which allocates nothing).</returns>
    public List<PendingVerdict>? CollectEvents()
    {
        List<PendingVerdict>? toJudge = null;
        DatagramEndpoint endpoint = Start();
        while (endpoint.TryPollEvent(out DatagramEvent e))
        {
            if (e.Kind == DatagramEventKind.VerificationRequired && Verifier is not null)
            {
                PeerIdentity peer = endpoint.PeerToVerify(e.Handle);
                if (!peer.PeerIsServer)
                {
                    _judgedUnseen.Add(e.Handle.Value); // a responder's handshake: its number is the caller's only once ACCEPTED
                }
                (toJudge ??= []).Add(new PendingVerdict(e.Handle, peer));
                continue;
            }
            if (e.Kind == DatagramEventKind.Accepted)
            {
                _judgedUnseen.Remove(e.Handle.Value);
            }
            else if (e.Kind == DatagramEventKind.Closed && _judgedUnseen.Remove(e.Handle.Value))
            {
                continue; // the end of a handshake the caller never saw (not confirmed in time): not its connection
            }
            _events.Enqueue(e);
        }
        return toJudge;
    }

    /// <summary>The library's own verifier rejected <paramref name="handle"/>: the endpoint says nothing more of it, and neither does this.</summary>
    public void Rejected(DatagramHandle handle) => _judgedUnseen.Remove(handle.Value);

    public bool TryTakeEvent(out DatagramEvent e) => _events.TryDequeue(out e);

    // Responder handshakes whose verification request the library answered itself (the caller saw no event): until
    // one becomes a connection (ACCEPTED), its number is not the caller's, so its end is not reported either. Every
    // number leaves the set on ACCEPTED, CLOSED or a rejecting verdict, the three ends the endpoint gives it.
    private readonly HashSet<long> _judgedUnseen = [];

    private void RequireConfigurable()
    {
        if (_endpoint is not null)
        {
            throw new OssuaryException(OssuaryErrorCode.InvalidOperation, "Settings cannot change once the endpoint is in use.");
        }
    }

    public void Dispose()
    {
        _endpoint?.Dispose();
        _options.Identity?.Dispose();
    }
}

/// <summary>A handshake waiting for the verdict of the library's own verifier.</summary>
internal readonly record struct PendingVerdict(DatagramHandle Handle, PeerIdentity Peer);
