using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using OpenTelemetry.Metrics;
using OssuaryNet.Identity;

namespace OssuaryNet.Cli;

/// <summary>
/// The service `run` hosts: starts every tunnel of the configuration (all bound before the host reports itself
/// started, which is when a service manager is told READY=1), reloads the file on SIGHUP, and stops them all at the
/// end. A reload is all or nothing: a file, or a key or trust file it names, with any mistake changes nothing.
/// Otherwise a removed tunnel stops accepting, an added one starts, a changed one restarts, a server tunnel whose
/// client policy alone changed takes it in place, and every kept server tunnel takes its trust file as it is now,
/// so a key removed from an authorized-keys file is refused at its next handshake while live connections go on.
/// </summary>
internal sealed class TunnelHost(PreparedRun initial, Output output, IHostApplicationLifetime lifetime, ISystemdNotifier? notifier) : IHostedService, IAsyncDisposable
{
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private readonly CancellationTokenSource _flows = new();
    private readonly Dictionary<string, RunningTunnel> _tunnels = new(StringComparer.Ordinal);
    // Every identity loaded: a kept tunnel goes on using the one it started with, so none is wiped before the end.
    private readonly List<OssuaryKeyPair> _keys = [initial.Key];
    private RunConfiguration _configuration = initial.Configuration;
    private OssuaryPublicKey _identity = initial.Key.PublicKey;
    private PosixSignalRegistration? _hangup;
    private MeterProvider? _metrics;
    private int _disposed;
    private bool _running; // every tunnel started: a stop is then worth a line in the log

    /// <summary>The exit code once stopped: 0, or the code of the failure that stopped the host.</summary>
    public int ExitCode { get; private set; } = ExitCodes.Success;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_configuration.Metrics is MetricsSettings metrics)
        {
            try
            {
                _metrics = MetricsEndpoint.Start(metrics);
            }
            catch (IOException e)
            {
                throw new TunnelStartException($"metrics: {e.Message}", ExitCodes.Network, e);
            }
            output.Note($"metrics on {metrics.Url}");
        }
        foreach (TunnelDefinition definition in _configuration.Tunnels)
        {
            try
            {
                await StartTunnelAsync(definition, initial);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The host disposes this service, which stops the tunnels already started.
                throw new TunnelStartException(StartFailure(definition, e), ExitCodes.Classify(e).Code, e);
            }
        }
        // Registered before the host reports itself started: a SIGHUP right after READY=1 must reload, not kill.
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            _ = Task.Run(ReloadAsync, CancellationToken.None);
        });
        _running = true;
        output.Note($"running {_tunnels.Count} tunnel{(_tunnels.Count == 1 ? "" : "s")} from {_configuration.Path}, fingerprint {initial.Key.PublicKey.Fingerprint}; SIGHUP reloads it");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _hangup?.Dispose();
        await _reloading.WaitAsync(CancellationToken.None); // no reload half done
        try
        {
            if (_running && _tunnels.Count > 0)
            {
                output.Note($"stopping {_tunnels.Count} tunnel{(_tunnels.Count == 1 ? "" : "s")}");
            }
            await _flows.CancelAsync();
            foreach (RunningTunnel tunnel in _tunnels.Values)
            {
                await tunnel.StopAsync();
            }
            _tunnels.Clear();
            _metrics?.Dispose();
            _metrics = null;
        }
        finally
        {
            _reloading.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes this instance once for each registration it was resolved through.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopAsync(CancellationToken.None);
        foreach (OssuaryKeyPair key in _keys)
        {
            key.Dispose();
        }
        _flows.Dispose();
        _reloading.Dispose();
    }

    /// <summary>Reads the file again and applies it (see the class summary); runs one at a time.</summary>
    public async Task ReloadAsync()
    {
        await _reloading.WaitAsync();
        if (_flows.IsCancellationRequested)
        {
            _reloading.Release();
            return; // stopping: nothing left to reload
        }
        try
        {
            notifier?.Notify(new ServiceState($"RELOADING=1\nMONOTONIC_USEC={Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)}"));
            (PreparedRun? next, IReadOnlyList<ConfigMistake> mistakes) = PreparedRun.Load(_configuration.Path, output);
            if (next is null)
            {
                foreach (ConfigMistake mistake in mistakes)
                {
                    Output.Error(mistake.ToString());
                }
                Output.Error($"reload refused: {mistakes.Count} mistake{(mistakes.Count == 1 ? "" : "s")}; the running tunnels are unchanged");
                return;
            }
            _keys.Add(next.Key);
            await ApplyAsync(next);
        }
        finally
        {
            notifier?.Notify(ServiceState.Ready);
            _reloading.Release();
        }
    }

    private async Task ApplyAsync(PreparedRun next)
    {
        if (next.Configuration.Metrics != _configuration.Metrics)
        {
            output.Note("metrics: [metrics] is read at start only; restart to change it");
        }
        bool identityChanged = next.Key.PublicKey != _identity;
        var wanted = next.Configuration.Tunnels.ToDictionary(t => t.Name, StringComparer.Ordinal);
        int kept = 0, restarted = 0, added = 0, removed = 0;
        var toStart = new List<TunnelDefinition>();
        // Removed and changed tunnels stop first, so that a restarted one can bind its address again.
        foreach ((string name, RunningTunnel tunnel) in _tunnels.ToArray())
        {
            if (!wanted.TryGetValue(name, out TunnelDefinition? definition))
            {
                await tunnel.StopAsync();
                _tunnels.Remove(name);
                output.For(name).Note(tunnel.Definition.IsUdp
                    ? "removed from the configuration: stopped, and its flows closed"
                    : "removed from the configuration: no longer accepting; its live connections go on");
                removed++;
            }
            else if (identityChanged || (definition != tunnel.Definition && !tunnel.Definition.DiffersOnlyInServerTrust(definition)))
            {
                output.For(name).Note(tunnel.Definition.IsUdp
                    ? "changed in the configuration: restarting (its flows are closed)"
                    : "changed in the configuration: restarting (its live connections go on)");
                await tunnel.StopAsync();
                _tunnels.Remove(name);
                toStart.Add(definition);
                restarted++;
            }
            else
            {
                if (definition.IsServer)
                {
                    tunnel.TakeServerTrust(definition, next.ServerTrust[name]); // the trust file as it is now
                }
                kept++;
            }
        }
        toStart.AddRange(next.Configuration.Tunnels.Where(t => !_tunnels.ContainsKey(t.Name) && !toStart.Contains(t)));
        added = toStart.Count - restarted;
        foreach (TunnelDefinition definition in toStart)
        {
            try
            {
                await StartTunnelAsync(definition, next);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Output.Error($"{StartFailure(definition, e)}; the other tunnels go on");
            }
        }
        _configuration = next.Configuration;
        _identity = next.Key.PublicKey;
        if (identityChanged)
        {
            output.Note($"the identity is now {_identity.Fingerprint}: every tunnel restarted with it");
        }
        output.Note($"reloaded {_configuration.Path}: {kept} kept, {restarted} restarted, {added} added, {removed} removed; {_tunnels.Count} running");
    }

    private async Task StartTunnelAsync(TunnelDefinition definition, PreparedRun run)
    {
        RunningTunnel tunnel = await RunningTunnel.StartAsync(definition, run, output.For(definition.Name), _flows.Token);
        _tunnels[definition.Name] = tunnel;
        _ = WatchAsync(tunnel);
    }

    /// <summary>
    /// A loop that ends while its tunnel is wanted failed as the verb would have exited: the process stops with that
    /// failure's exit code, so that a service manager restarts it rather than leave one tunnel silently down.
    /// </summary>
    private async Task WatchAsync(RunningTunnel tunnel)
    {
        Exception? failure = null;
        try
        {
            await tunnel.Loop;
        }
        catch (Exception e)
        {
            failure = e;
        }
        if (tunnel.Stopping)
        {
            return; // stopped on purpose
        }
        Output.Error(failure is null
            ? $"tunnels.{tunnel.Definition.Name} ({tunnel.Definition.ModeName} {tunnel.Definition.Listen}) stopped: its socket was closed"
            : StartFailure(tunnel.Definition, failure, running: true));
        ExitCode = failure is null ? ExitCodes.Network : ExitCodes.Classify(failure).Code;
        lifetime.StopApplication();
    }

    /// <summary>One line naming the tunnel, its addresses and what went wrong.</summary>
    public static string StartFailure(TunnelDefinition definition, Exception e, bool running = false) =>
        $"tunnels.{definition.Name} ({definition.ModeName} {definition.Listen} to {definition.ToHost}:{definition.ToPort}){(running ? " stopped" : "")}: {ExitCodes.Classify(e).Message}";
}
