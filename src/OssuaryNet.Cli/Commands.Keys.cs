using System.CommandLine;
using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>`keygen` and `id`: the local identity.</summary>
internal static partial class Commands
{
    public static Command Keygen()
    {
        var force = new Option<bool>("--force", "-f") { Description = "Replace an existing key file." };
        var command = new Command("keygen", "Create an identity key pair (private key file mode 0600, public key beside it as .pub).\n\nExamples:\n  ossuary keygen\n  ossuary keygen --key ~/.config/ossuary/server.key") { force };
        command.SetAction(result =>
        {
            string path = result.GetValue(Key) ?? CliPaths.DefaultKey;
            if (File.Exists(path) && !result.GetValue(force))
            {
                throw new OssuaryException(OssuaryErrorCode.KeyFileInvalid, $"'{path}' already exists; refusing to overwrite it (use --force to replace it).");
            }
            using OssuaryKeyPair key = OssuaryKeyPair.Generate();
            key.Save(path, overwrite: result.GetValue(force));
            Console.WriteLine($"private key  {path}");
            Console.WriteLine($"public key   {key.PublicKey}");
            Console.WriteLine($"fingerprint  {key.PublicKey.Fingerprint}");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Id()
    {
        var command = new Command("id", "Print this identity's public key and fingerprint (give the key to peers who want to pin you).\n\nExample:\n  ossuary id");
        command.SetAction(result =>
        {
            using OssuaryKeyPair key = Identity.LoadOrCreate(result.GetValue(Key), new Output(result.GetValue(Verbose)));
            Console.WriteLine($"public key   {key.PublicKey}");
            Console.WriteLine($"fingerprint  {key.PublicKey.Fingerprint}");
            return ExitCodes.Success;
        });
        return command;
    }
}
