using System.Collections.Concurrent;
using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>
/// Accepts exactly a set of pinned keys, optionally loaded from an authorized-keys file: one key per line in
/// base64, optionally followed by a space and a comment; blank lines and lines starting with '#' are ignored. A line
/// may start with the option "pq" ("pq KEY comment"): that peer must use the post-quantum hybrid handshake.
/// </summary>
/// <remarks>
/// Once a key has completed a hybrid handshake here, a classical handshake with it is refused for the life of this
/// object (<see cref="OssuaryErrorCode.PostQuantumDowngrade"/>): what it has spoken once, an attacker must not strip.
/// </remarks>
public sealed class AuthorizedKeys : PeerVerifier
{
    private readonly HashSet<OssuaryPublicKey> _keys;
    private readonly ConcurrentDictionary<OssuaryPublicKey, bool> _postQuantum = new();

    /// <summary>Pins the given keys; those in <paramref name="requirePostQuantum"/> must use the hybrid handshake.</summary>
    public AuthorizedKeys(IEnumerable<OssuaryPublicKey> keys, IEnumerable<OssuaryPublicKey>? requirePostQuantum = null)
    {
        _keys = new HashSet<OssuaryPublicKey>(keys);
        foreach (OssuaryPublicKey key in requirePostQuantum ?? [])
        {
            _keys.Add(key);
            _postQuantum[key] = true;
        }
    }

    /// <summary>The pinned keys.</summary>
    public IReadOnlyCollection<OssuaryPublicKey> Keys => _keys;

    /// <summary>Loads an authorized-keys file.</summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.KeyFileInvalid"/> when it cannot be read or a line is not a key.</exception>
    public static AuthorizedKeys Load(string path)
    {
        var keys = new List<OssuaryPublicKey>();
        var postQuantum = new List<OssuaryPublicKey>();
        foreach ((int number, string line) in TrustFile.ReadEntries(path))
        {
            string[] fields = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            bool requirePostQuantum = fields is ["pq", _, ..];
            string keyText = requirePostQuantum ? fields[1] : fields[0];
            if (!OssuaryPublicKey.TryParse(keyText, out OssuaryPublicKey? key, out string? problem))
            {
                throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"{path}:{number}: not a public key: {problem}.");
            }
            (requirePostQuantum ? postQuantum : keys).Add(key);
        }
        return new AuthorizedKeys(keys, postQuantum);
    }

    /// <inheritdoc/>
    public override bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) => key is not null && _postQuantum.ContainsKey(key);

    /// <inheritdoc/>
    public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default)
    {
        if (!_keys.Contains(peer.PublicKey))
        {
            return ValueTask.FromResult(PeerVerdict.Reject($"{Who(peer)} has key fingerprint {peer.PublicKey.Fingerprint}, which is not among the authorized keys."));
        }
        if (peer.Pattern.IsHybrid())
        {
            _postQuantum[peer.PublicKey] = true;
        }
        else if (peer.IsClassical && _postQuantum.ContainsKey(peer.PublicKey))
        {
            return ValueTask.FromResult(PeerVerdict.PostQuantumDowngrade(
                $"{Who(peer)} (fingerprint {peer.PublicKey.Fingerprint}) used a classical handshake, but must use the post-quantum hybrid one (it has before, or its authorized-keys line says pq): someone on the path may be stripping it."));
        }
        return ValueTask.FromResult(PeerVerdict.Accept());
    }

    // Only for rejections: an accepted handshake allocates no message.
    private static string Who(PeerIdentity peer) => $"The {(peer.PeerIsServer ? "server" : "client")}{(peer.Endpoint is null ? "" : $" at {peer.Endpoint}")}";
}
