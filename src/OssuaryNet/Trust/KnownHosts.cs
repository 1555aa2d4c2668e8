using OssuaryNet.Identity;

namespace OssuaryNet.Trust;

/// <summary>What <see cref="KnownHosts"/> does with an endpoint it has never seen.</summary>
public enum TofuPolicy
{
    /// <summary>Record the key and accept (trust on first use).</summary>
    Accept,
    /// <summary>Reject unknown endpoints: only recorded keys are trusted.</summary>
    Reject,
    /// <summary>Ask <see cref="KnownHosts.ConfirmFirstContact"/>, and record the key if it says yes.</summary>
    Ask,
}

/// <summary>
/// Trust on first use backed by a known-hosts file: lines of "ENDPOINT BASE64KEY", followed by " pq" once the peer
/// has completed a post-quantum hybrid handshake. The first contact with an endpoint records its key; a later
/// connection presenting another key is rejected with <see cref="OssuaryErrorCode.PeerKeyChanged"/> naming the
/// endpoint and both fingerprints, and a classical handshake with an endpoint marked "pq" is rejected with
/// <see cref="OssuaryErrorCode.PostQuantumDowngrade"/>. A connection with no endpoint name cannot be checked and is rejected.
/// </summary>
public sealed class KnownHosts : PeerVerifier
{
    /// <summary>Uses the known-hosts file at <paramref name="path"/> (created on first record).</summary>
    public KnownHosts(string path, TofuPolicy policy = TofuPolicy.Accept)
    {
        Path = path;
        Policy = policy;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>What happens on first contact.</summary>
    public TofuPolicy Policy { get; }

    /// <summary>
    /// With <see cref="TofuPolicy.Ask"/>: asked whether to trust a first-contact peer; null rejects. It runs outside
    /// the file's lock and outside the connection (a person may take a while to answer), bounded by the handshake deadline.
    /// </summary>
    public Func<PeerIdentity, CancellationToken, ValueTask<bool>>? ConfirmFirstContact { get; init; }

    /// <summary>
    /// Called once a first contact was written to the file (after <see cref="ConfirmFirstContact"/> said yes, or at once
    /// under <see cref="TofuPolicy.Accept"/>), so that an application can say so, as ssh's "Permanently added" does.
    /// Runs on the verifying thread, outside the file's lock.
    /// </summary>
    public Action<PeerIdentity>? FirstContactRecorded { get; init; }

    /// <summary>The key recorded for <paramref name="endpoint"/>, or null. A client that finds one pins it (IK handshake).</summary>
    public OssuaryPublicKey? Lookup(string endpoint) => Find(endpoint)?.Key;

    /// <summary>Whether <paramref name="endpoint"/> is marked as having spoken the post-quantum hybrid handshake.</summary>
    public override bool HasSpokenPostQuantum(string? endpoint, OssuaryPublicKey? key) => endpoint is not null && Find(endpoint) is { PostQuantum: true };

    private (OssuaryPublicKey Key, bool PostQuantum)? Find(string endpoint)
    {
        foreach ((int number, string line) in TrustFile.ReadEntries(Path))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2 && fields[0] == endpoint)
            {
                return OssuaryPublicKey.TryParse(fields[1], out OssuaryPublicKey? key, out string? problem)
                    ? (key, fields.Length >= 3 && fields[2] == PostQuantumMark)
                    : throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"{Path}:{number}: not a public key: {problem}.");
            }
        }
        return null;
    }

    private const string PostQuantumMark = "pq";

    /// <inheritdoc/>
    public override OssuaryPublicKey? RecordedKeyFor(string endpoint) => Lookup(endpoint);

    /// <summary>All recorded entries.</summary>
    public IReadOnlyList<(string Endpoint, OssuaryPublicKey Key)> Entries =>
        TrustFile.ReadEntries(Path)
            .Select(entry => entry.Line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 2 && OssuaryPublicKey.TryParse(fields[1], out _))
            .Select(fields => (fields[0], OssuaryPublicKey.Parse(fields[1])))
            .ToList();

    /// <summary>Removes the entry for <paramref name="endpoint"/>; false when there was none.</summary>
    public bool Remove(string endpoint) =>
        TrustFile.Update(Path, lines =>
        {
            int removed = lines.RemoveAll(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var name, ..] && name == endpoint);
            return (removed > 0, removed > 0);
        });

    /// <inheritdoc/>
    public override async ValueTask<PeerVerdict> VerifyAsync(PeerIdentity peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (string.IsNullOrWhiteSpace(peer.Endpoint) || peer.Endpoint.Any(char.IsWhiteSpace))
        {
            return PeerVerdict.Reject("Known-hosts verification needs the peer's endpoint name, and none (or one with spaces) was given.");
        }
        string endpoint = peer.Endpoint;
        if (Find(endpoint) is { } entry && Judge(peer, entry.Key, entry.PostQuantum) is { } known)
        {
            if (known.IsAccepted && peer.Pattern.IsHybrid() && !entry.PostQuantum)
            {
                MarkPostQuantum(endpoint, peer.PublicKey);
            }
            return known;
        }
        bool trust = Policy switch
        {
            TofuPolicy.Accept => true,
            TofuPolicy.Ask => ConfirmFirstContact is { } confirm && await confirm(peer, cancellationToken).ConfigureAwait(false),
            _ => false,
        };
        if (!trust)
        {
            return PeerVerdict.Reject($"{endpoint} (fingerprint {peer.PublicKey.Fingerprint}) is not in {Path}, and first contact is not accepted.");
        }
        // Another process may have recorded the endpoint while the question was open: judge again under the file's lock.
        bool recordedNow = false;
        PeerVerdict verdict = TrustFile.Update(Path, lines =>
        {
            foreach (string line in lines)
            {
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && fields[0] == endpoint && !line.TrimStart().StartsWith('#'))
                {
                    OssuaryPublicKey? recorded = OssuaryPublicKey.TryParse(fields[1], out OssuaryPublicKey? parsed) ? parsed : null;
                    bool postQuantum = fields.Length >= 3 && fields[2] == PostQuantumMark;
                    return (false, Judge(peer, recorded, postQuantum) ?? PeerVerdict.Reject($"{Path} has an unreadable entry for {endpoint}."));
                }
            }
            lines.Add(peer.Pattern.IsHybrid() ? $"{endpoint} {peer.PublicKey} {PostQuantumMark}" : $"{endpoint} {peer.PublicKey}");
            recordedNow = true;
            return (true, PeerVerdict.Accept());
        });
        if (recordedNow)
        {
            FirstContactRecorded?.Invoke(peer);
        }
        return verdict;
    }

    /// <summary>Adds the "pq" mark to the entry of <paramref name="endpoint"/> (if it still records <paramref name="key"/>).</summary>
    private void MarkPostQuantum(string endpoint, OssuaryPublicKey key) =>
        TrustFile.Update(Path, lines =>
        {
            for (int i = 0; i < lines.Count; i++)
            {
                string[] fields = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 2 && fields[0] == endpoint && OssuaryPublicKey.TryParse(fields[1], out OssuaryPublicKey? recorded) && recorded.Equals(key))
                {
                    lines[i] = $"{endpoint} {key} {PostQuantumMark}";
                    return (true, true);
                }
            }
            return (false, false);
        });

    /// <summary>The verdict for a peer whose endpoint has <paramref name="recorded"/> on file; null when nothing is recorded.</summary>
    private PeerVerdict? Judge(PeerIdentity peer, OssuaryPublicKey? recorded, bool postQuantum) =>
        recorded is null ? null
        : recorded.Equals(peer.PublicKey) && postQuantum && peer.IsClassical ? PeerVerdict.PostQuantumDowngrade(
            $"{peer.Endpoint} used a classical handshake, but {Path} records that it has spoken the post-quantum hybrid one: someone on the path may be stripping it. " +
            $"If the peer really went back to classical handshakes, remove \"{PostQuantumMark}\" from its entry in {Path}.")
        : recorded.Equals(peer.PublicKey) ? PeerVerdict.Accept()
        : PeerVerdict.KeyChanged(
            $"The key of {peer.Endpoint} has changed: {Path} records fingerprint {recorded.Fingerprint}, the peer presented {peer.PublicKey.Fingerprint}. " +
            "Someone may be intercepting the connection, or the peer's key was replaced. " +
            $"If the change is expected, remove the old entry for {peer.Endpoint} from {Path}.");
}
