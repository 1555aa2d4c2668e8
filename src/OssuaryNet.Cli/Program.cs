using System.CommandLine;

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
        root.Subcommands.Add(Commands.Send());
        root.Subcommands.Add(Commands.Receive());
        root.Subcommands.Add(Commands.KnownHosts());
        root.Subcommands.Add(Commands.AuthorizedKeys());
        root.Subcommands.Add(Demo.Command());

        ParseResult parsed = root.Parse(args);
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
                PrintBanner(error, message);
            }
            Output.Error(message);
            return code;
        }
    }

    /// <summary>The banner of a possible man in the middle: a changed key, or a stripped post-quantum handshake.</summary>
    public static void PrintBanner(Exception error, string detail)
    {
        if (error is OssuaryException { ErrorCode: OssuaryErrorCode.PostQuantumDowngrade })
        {
            PrintDowngradeBanner(detail);
        }
        else
        {
            PrintKeyChangedBanner(detail);
        }
    }

    /// <summary>For a peer on record as speaking the hybrid handshake that now offers only a classical one.</summary>
    private static void PrintDowngradeBanner(string detail)
    {
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("@    WARNING: POST-QUANTUM PROTECTION WAS STRIPPED!       @");
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("This peer has completed the post-quantum hybrid handshake before, and now only a");
        Console.Error.WriteLine("classical one is offered. Someone on the path may be removing the protection.");
        Console.Error.WriteLine(detail);
    }

    /// <summary>The warning ssh users know, for a server whose key differs from the recorded one.</summary>
    internal static void PrintKeyChangedBanner(string detail)
    {
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @");
        Console.Error.WriteLine("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
        Console.Error.WriteLine("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!");
        Console.Error.WriteLine("Someone could be eavesdropping on you right now (man-in-the-middle attack)!");
        Console.Error.WriteLine("It is also possible that the server's key has just been replaced.");
        Console.Error.WriteLine(detail);
        Console.Error.WriteLine("If the change is expected, run: ossuary known-hosts remove HOST:PORT");
    }
}
