using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>The local identity: the key file given with --key, or the default one, created on first use.</summary>
internal static class Identity
{
    public static OssuaryKeyPair LoadOrCreate(string? path, Output output)
    {
        if (path is not null)
        {
            // A key named on the command line must exist: a typo must not quietly become a new identity.
            return File.Exists(path)
                ? OssuaryKeyPair.Load(path)
                : throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"No key file at '{path}'. Create one with: ossuary keygen --key '{path}'");
        }
        OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(CliPaths.DefaultKey, out bool created);
        if (created)
        {
            output.Note($"created identity {CliPaths.DefaultKey} (fingerprint {key.PublicKey.Fingerprint})");
        }
        return key;
    }
}
