using System.CommandLine;
using OssuaryNet.Identity;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>`known-hosts` and `authorized-keys`: the trust files.</summary>
internal static partial class Commands
{
    public static Command KnownHosts()
    {
        var list = new Command("list", "List recorded servers: endpoint, fingerprint, key, and \"pq\" for those that have completed the post-quantum hybrid handshake.");
        list.SetAction(result =>
        {
            var knownHosts = new OssuaryNet.Trust.KnownHosts(KnownHostsPath(result));
            IReadOnlyList<(string Endpoint, OssuaryPublicKey Key)> entries = knownHosts.Entries;
            foreach ((string endpoint, OssuaryPublicKey key) in entries)
            {
                // "pq": a classical handshake from this server is refused as a downgrade.
                Console.WriteLine($"{PrintableText.Escape(endpoint)}  {key.Fingerprint}  {key}{(knownHosts.HasSpokenPostQuantum(endpoint, key) ? "  pq" : "")}");
            }
            if (entries.Count == 0)
            {
                Output.Notice($"no server is recorded in {PrintableText.Escape(knownHosts.Path)}");
            }
            return ExitCodes.Success;
        });
        var endpointArgument = new Argument<string>("HOST:PORT") { Description = "The recorded endpoint." };
        var remove = new Command("remove", "Forget a server's key (after a legitimate key change).\n\nExample:\n  ossuary known-hosts remove db.example:7000") { endpointArgument };
        remove.SetAction(result =>
        {
            string endpoint = result.GetValue(endpointArgument)!;
            if (!new OssuaryNet.Trust.KnownHosts(KnownHostsPath(result)).Remove(endpoint))
            {
                throw new UsageException($"{endpoint} is not in {KnownHostsPath(result)}.");
            }
            Console.WriteLine($"removed {endpoint}");
            return ExitCodes.Success;
        });
        return new Command("known-hosts", "Manage the servers this client trusts (trust on first use).") { list, remove };
    }

    public static Command AuthorizedKeys()
    {
        var file = new Option<string?>("--file") { Description = "The authorized-keys file (default: beside the key).", Recursive = true };
        var keyArgument = new Argument<string>("KEY") { Description = "A public key (base64)." };
        var comment = new Argument<string?>("COMMENT") { Description = "A note kept with the key.", Arity = ArgumentArity.ZeroOrOne };
        var add = new Command("add", "Allow a client key.\n\nExample:\n  ossuary authorized-keys add D6poTtKIZ7l/Smot7l34zpdOdrcBjj8iocTPJnhXDyA= alice@laptop") { keyArgument, comment };
        add.SetAction(result =>
        {
            OssuaryPublicKey key = OssuaryPublicKey.TryParse(result.GetValue(keyArgument), out var parsed, out string? problem)
                ? parsed
                : throw new UsageException($"KEY '{PrintableText.Escape(result.GetValue(keyArgument)!)}' is not a public key: {problem}.");
            string path = result.GetValue(file) ?? CliPaths.DefaultAuthorizedKeys;
            bool added = TrustFileEdit(path, lines =>
            {
                if (lines.Any(line => line.Split(' ')[0] == key.ToString()))
                {
                    return false;
                }
                lines.Add(result.GetValue(comment) is { Length: > 0 } note ? $"{key} {note}" : key.ToString());
                return true;
            });
            Console.WriteLine(added ? $"added {key.Fingerprint} to {path}" : $"{key.Fingerprint} is already in {path}");
            return ExitCodes.Success;
        });
        var list = new Command("list", "List allowed client keys: fingerprint, key, \"pq\" for those that must use the post-quantum hybrid handshake, and the comment.");
        list.SetAction(result =>
        {
            string path = result.GetValue(file) ?? CliPaths.DefaultAuthorizedKeys;
            OssuaryNet.Trust.AuthorizedKeys.Load(path); // a malformed line is reported with its number
            int listed = 0;
            foreach ((int _, string line) in OssuaryNet.Trust.TrustFile.ReadEntries(path))
            {
                // "[pq] KEY [COMMENT]", as AuthorizedKeys reads it; the comment is the user's own text, printed escaped.
                string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                bool postQuantum = fields is ["pq", _, ..];
                int keyAt = postQuantum ? 1 : 0;
                OssuaryPublicKey key = OssuaryPublicKey.Parse(fields[keyAt]);
                string comment = fields.Length > keyAt + 1 ? $"  {PrintableText.Escape(string.Join(' ', fields[(keyAt + 1)..]))}" : "";
                Console.WriteLine($"{key.Fingerprint}  {key}{(postQuantum ? "  pq" : "")}{comment}");
                listed++;
            }
            if (listed == 0)
            {
                Output.Notice($"no client key is allowed in {PrintableText.Escape(path)}{(File.Exists(path) ? "" : " (it does not exist)")}");
            }
            return ExitCodes.Success;
        });
        var which = new Argument<string>("KEY|FINGERPRINT") { Description = "The key to remove." };
        var remove = new Command("remove", "Stop allowing a client key.") { which };
        remove.SetAction(result =>
        {
            string path = result.GetValue(file) ?? CliPaths.DefaultAuthorizedKeys;
            string target = result.GetValue(which)!;
            bool removed = TrustFileEdit(path, lines =>
                lines.RemoveAll(line => OssuaryPublicKey.TryParse(line.Split(' ')[0], out var key) && key.Matches(target)) > 0);
            if (!removed)
            {
                throw new UsageException($"{target} is not in {path}.");
            }
            Console.WriteLine($"removed {target}");
            return ExitCodes.Success;
        });
        return new Command("authorized-keys", "Manage the client keys a server accepts (used with --authorized-keys).") { file, add, list, remove };
    }

    private static bool TrustFileEdit(string path, Func<List<string>, bool> edit)
    {
        PrivateDirectory.EnsureFor(path); // created 0700 when missing
        var lines = File.Exists(path) ? File.ReadAllLines(path).ToList() : [];
        if (!edit(lines))
        {
            return false;
        }
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllLines(temporary, lines);
        File.Move(temporary, path, overwrite: true);
        return true;
    }

    private static string KnownHostsPath(ParseResult result) => result.GetValue(KnownHostsFile) ?? CliPaths.DefaultKnownHosts;
}
