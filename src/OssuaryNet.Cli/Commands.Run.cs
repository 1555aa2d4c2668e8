using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace OssuaryNet.Cli;

/// <summary>`run FILE`: many tunnels from one TOML file, as a service (systemd readiness, SIGHUP reload, metrics).</summary>
internal static partial class Commands
{
    public static Command Run()
    {
        var file = new Argument<string>("FILE") { Description = "The tunnel configuration (TOML); see README \"Running tunnels from a file\" and examples/systemd/tunnels.toml." };
        var check = new Option<bool>("--check") { Description = "Only read the file and the key and trust files it names, print any mistakes, and exit (0 when there are none)." };
        var command = new Command("run", "Run every tunnel of a configuration file (forward, serve, udp-forward and udp-serve ends, any number of each) until stopped. SIGHUP reloads the file: added tunnels start, removed ones stop accepting, trust files are read again for new handshakes, and live connections go on. Under systemd (Type=notify) it reports readiness and logs with journald priorities.\n\nExample:\n  ossuary run /etc/ossuary/tunnels.toml")
        {
            file, check,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = new Output(result.GetValue(Verbose));
            Output.JournalPriorities = ServiceManager.JournalHoldsStderr;
            string path = Path.GetFullPath(result.GetValue(file)!);
            (PreparedRun? run, IReadOnlyList<ConfigMistake> mistakes) = PreparedRun.Load(path, output);
            if (run is null)
            {
                foreach (ConfigMistake mistake in mistakes)
                {
                    Output.Error(mistake.ToString());
                }
                return mistakes.Min(m => m.ExitCode); // a mistake in the file itself (1) before one in a file it names (6)
            }
            if (result.GetValue(check))
            {
                output.Note($"{path}: {run.Configuration.Tunnels.Count} tunnel{(run.Configuration.Tunnels.Count == 1 ? "" : "s")}, no mistakes");
                run.Key.Dispose();
                return ExitCodes.Success;
            }
            IHost host = BuildHost(run, output);
            // The host disposes the tunnels' service asynchronously (IHost itself declares only Dispose).
            await using var disposeHost = (IAsyncDisposable)host;
            TunnelHost tunnels = host.Services.GetRequiredService<TunnelHost>();
            try
            {
                await host.StartAsync(cancellationToken);
            }
            catch (TunnelStartException e)
            {
                Output.Error(e.Message);
                return e.ExitCode;
            }
            await host.WaitForShutdownAsync(cancellationToken);
            return tunnels.ExitCode; // a stop asked for (SIGTERM, SIGINT) is the normal end of a service: 0
        });
        return command;
    }

    /// <summary>
    /// A generic host with no configuration sources (the file is the configuration), the tunnels as its one hosted
    /// service, the systemd lifetime when a service manager waits for readiness, and the host's own log lines (warnings
    /// and errors only) on stderr, in journald's format when the journal holds it.
    /// </summary>
    private static IHost BuildHost(PreparedRun run, Output output)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "ossuary" });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None); // its start failure is reported as one line by `run`
        builder.Logging.AddConsole(options =>
        {
            options.LogToStandardErrorThreshold = LogLevel.Trace; // stdout stays empty
            options.FormatterName = ServiceManager.JournalHoldsStderr ? ConsoleFormatterNames.Systemd : ConsoleFormatterNames.Simple;
        });
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(4)); // within the tool's 5 s for SIGTERM
        if (ServiceManager.ExpectsReadiness)
        {
            ServiceManager.AddLifetime(builder.Services);
        }
        builder.Services.AddSingleton(services => new TunnelHost(run, output,
            services.GetRequiredService<IHostApplicationLifetime>(), services.GetService<ISystemdNotifier>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<TunnelHost>());
        return builder.Build();
    }
}

/// <summary>A tunnel or the metrics endpoint could not start: the message is the one line to print.</summary>
internal sealed class TunnelStartException(string message, int exitCode, Exception inner) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
