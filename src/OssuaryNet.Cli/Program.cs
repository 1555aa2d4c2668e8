using System.CommandLine;
using OssuaryNet.Protocol;

namespace OssuaryNet.Cli;

/// <summary>The `ossuary` command: keys, secure netcat, tunnels, file transfer, trust management and a demo.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("ossuary: secure channels over TCP and UDP with Noise handshakes and static keys, no certificates.\nRun `ossuary demo` for a tour; `ossuary COMMAND --help` for each command.")
        {
            Commands.Key, Commands.KnownHostsFile, Commands.PostQuantum, Commands.Verbose,
        };
        root.Subcommands.Add(Commands.Keygen());
        root.Subcommands.Add(Commands.Id());
        root.Subcommands.Add(Commands.Listen());
        root.Subcommands.Add(Commands.Connect());
        root.Subcommands.Add(Commands.Forward());
        root.Subcommands.Add(Commands.Serve());
        root.Subcommands.Add(Commands.UdpForward());
        root.Subcommands.Add(Commands.UdpServe());
        root.Subcommands.Add(Commands.Run());
        root.Subcommands.Add(Commands.Send());
        root.Subcommands.Add(Commands.Receive());
        root.Subcommands.Add(Commands.KnownHosts());
        root.Subcommands.Add(Commands.AuthorizedKeys());
        root.Subcommands.Add(Demo.Command());

        // No command at all: the overview, as git and ssh give it.
        ParseResult parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parsed.Errors.Count > 0 && !AsksForHelp(args))
        {
            // One line, as every other error: the parser's own output is a page of usage after the message. An unknown
            // word says more than the missing command it leaves behind.
            string first = (parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0]).Message;
            string command = parsed.CommandResult.Command == root ? "ossuary" : $"ossuary {parsed.CommandResult.Command.Name}";
            Output.Error($"{ParseErrors.Describe(first)} (see '{command} --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(5) });
        }
        catch (OperationCanceledException)
        {
            return 130; // interrupted (Ctrl-C), as shells report SIGINT
        }
        catch (Exception error)
        {
            (int code, string message) = ExitCodes.Classify(error);
            if (code == ExitCodes.PeerKeyChanged)
            {
                PrintBanner(error);
            }
            Output.Error(message);
            return code;
        }
    }

    private static bool AsksForHelp(string[] args) => args.Any(a => a is "-h" or "--help" or "-?" or "/?" or "/h");

    /// <summary>Where a connecting verb records the endpoint of a changed key (Exception.Data), for the banner.</summary>
    public const string EndpointKey = "ossuary.endpoint";

    /// <summary>
    /// The banner of a possible man in the middle: a changed key, or a stripped post-quantum handshake. The failure's
    /// own sentence follows it once, on the error line.
    /// </summary>
    public static void PrintBanner(Exception error)
    {
        string endpoint = error.Data[EndpointKey] as string ?? "HOST:PORT";
        if (error is OssuaryException { ErrorCode: OssuaryErrorCode.PostQuantumDowngrade })
        {
            PrintDowngradeBanner();
        }
        else
        {
            PrintKeyChangedBanner(endpoint);
        }
    }

    /// <summary>For a peer on record as speaking the hybrid handshake that now offers only a classical one.</summary>
    private static void PrintDowngradeBanner()
    {
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("@    WARNING: POST-QUANTUM PROTECTION WAS STRIPPED!       @");
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("This peer has completed the post-quantum hybrid handshake before, and now only a");
        Console.Error.WriteLine("classical one is offered. Someone on the path may be removing the protection.");
    }

    /// <summary>The warning ssh users know, for a server whose key differs from the recorded one.</summary>
    internal static void PrintKeyChangedBanner(string endpoint)
    {
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @");
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!");
        Console.Error.WriteLine("Someone could be eavesdropping on you right now (man-in-the-middle attack)!");
        Console.Error.WriteLine("It is also possible that the server's key has just been replaced.");
        Console.Error.WriteLine($"If the change is expected, run: ossuary known-hosts remove {PrintableText.Escape(endpoint)}");
    }
}
