using System.Text.RegularExpressions;
using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>The two ways to name a peer on the command line or in a configuration: its public key or its fingerprint.</summary>
internal static partial class PeerText
{
    [GeneratedRegex("^([a-z2-7]{4}-){7}[a-z2-7]{4}$")]
    public static partial Regex Fingerprint();

    public static bool IsKeyOrFingerprint(string text) =>
        OssuaryPublicKey.TryParse(text, out _) || Fingerprint().IsMatch(text.Trim().ToLowerInvariant());
}
