namespace OssuaryNet.Trust;

using OssuaryNet.Identity;

/// <summary>
/// Accepts exactly a set of pinned keys, optionally loaded from an authorized-keys file: one key per line in
/// base64, optionally followed by a space and a comment; blank lines and lines starting with '#' are ignored.
/// </summary>
public sealed class AuthorizedKeys : PeerVerifier
{
    private readonly HashSet<OssuaryPublicKey> _keys;

    /// <summary>Pins the given keys.</summary>
    public AuthorizedKeys(IEnumerable<OssuaryPublicKey> keys) => _keys = new HashSet<OssuaryPublicKey>(keys);

    /// <summary>The pinned keys.</summary>
    public IReadOnlyCollection<OssuaryPublicKey> Keys => _keys;

    /// <summary>Loads an authorized-keys file.</summary>
    /// <exception cref="OssuaryException"><see cref="OssuaryErrorCode.KeyFileInvalid"/> when it cannot be read or a line is not a key.</exception>
    public static AuthorizedKeys Load(string path)
    {
        var keys = new List<OssuaryPublicKey>();
        foreach ((int number, string line) in TrustFile.ReadEntries(path))
        {
            string keyText = line.Split(' ', 2)[0];
            if (!OssuaryPublicKey.TryParse(keyText, out OssuaryPublicKey? key))
            {
                throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"{path}:{number}: not a public key.");
            }
            keys.Add(key);
        }
        return new AuthorizedKeys(keys);
    }

    /// <inheritdoc/>
    public override ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_keys.Contains(peer.PublicKey)
            ? PeerVerdict.Accept()
            : PeerVerdict.Reject($"The {(peer.PeerIsServer ? "server" : "client")}{(peer.Endpoint is null ? "" : $" at {peer.Endpoint}")} has key fingerprint {peer.PublicKey.Fingerprint}, which is not among the authorized keys."));
}
