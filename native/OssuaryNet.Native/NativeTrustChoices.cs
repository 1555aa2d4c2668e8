using OssuaryNet.Identity;
using OssuaryNet.Trust;

namespace OssuaryNet.Native;

/// <summary>
/// The trust a C caller chose for a handle, stream (ossuary_*) or datagram (ossuary_dgram_*), and the one precedence
/// between the choices: deferred (the application decides itself), then a callback, then known hosts, then authorized
/// keys (with a pinned server key among them), then accept-any. The owner guards the setters (settings are fixed once
/// its handle is in use).
/// </summary>
internal sealed class NativeTrustChoices
{
    private readonly List<OssuaryPublicKey> _authorizedKeys = [];
    private CallbackVerifier? _callback;
    private KnownHosts? _knownHosts;
    private bool _acceptAny;
    private bool _deferred;

    public void AddAuthorizedKey(OssuaryPublicKey key) => _authorizedKeys.Add(key);

    public void SetCallback(nint callback, nint userData) => _callback = callback == 0 ? null : new CallbackVerifier(callback, userData);

    public void SetKnownHosts(string path, TofuPolicy policy) => _knownHosts = new KnownHosts(path, policy);

    public void SetAcceptAny() => _acceptAny = true;

    public void SetDeferred() => _deferred = true;

    /// <summary>The verifier the library applies itself, or null when the application decides (deferred).</summary>
    /// <param name="pinned">A server key the client pinned: trusted as an authorized key is.</param>
    /// <param name="noChoice">The message when nothing was chosen, naming the caller's functions.</param>
    /// <exception cref="OssuaryException">Nothing was chosen (<see cref="OssuaryErrorCode.InvalidOperation"/>).</exception>
    public PeerVerifier? Choose(OssuaryPublicKey? pinned, string noChoice)
    {
        if (_deferred)
        {
            return null;
        }
        if (_callback is not null)
        {
            return _callback;
        }
        if (_knownHosts is not null)
        {
            return _knownHosts;
        }
        List<OssuaryPublicKey> trusted = [.. _authorizedKeys];
        if (pinned is not null)
        {
            trusted.Add(pinned);
        }
        if (trusted.Count > 0)
        {
            return new AuthorizedKeys(trusted);
        }
        return _acceptAny ? PeerVerifier.AcceptAny : throw new OssuaryException(OssuaryErrorCode.InvalidOperation, noChoice);
    }
}
