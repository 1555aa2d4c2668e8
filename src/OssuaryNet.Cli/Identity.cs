using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>The local identity: the key file given with --key, or the default one, created on first use.</summary>
internal static class Identity
{
    public static OssuaryKeyPair LoadOrCreate(string? path, Output output)
    {
        string keyPath = path ?? CliPaths.DefaultKey;
        if (!File.Exists(keyPath))
        {
            if (path is not null)
            {
                throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"No key file at '{keyPath}'. Create one with: ossuary keygen --key '{keyPath}'");
            }
            using OssuaryKeyPair created = OssuaryKeyPair.Generate();
            created.Save(keyPath);
            output.Note($"created identity {keyPath} (fingerprint {created.PublicKey.Fingerprint})");
        }
        return OssuaryKeyPair.Load(keyPath);
    }
}
