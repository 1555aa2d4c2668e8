using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace OssuaryNet.Cli;

/// <summary>
/// What `run` does for the service manager that runs it: readiness through sd_notify (Type=notify) and log lines that
/// journald files by priority. Both come from Microsoft.Extensions.Hosting.Systemd.
/// </summary>
internal static class ServiceManager
{
    /// <summary>
    /// Whether someone waits for READY=1: systemd is the parent, or NOTIFY_SOCKET is set, which is where sd_notify(3)
    /// sends whoever set it (systemd, or a supervisor or test that speaks the same protocol).
    /// </summary>
    public static bool ExpectsReadiness =>
        SystemdHelpers.IsSystemdService() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>Whether stderr goes to the journal: systemd sets JOURNAL_STREAM for a service whose output it holds (systemd.exec(5)).</summary>
    public static bool JournalHoldsStderr => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));

    /// <summary>
    /// The systemd lifetime: READY=1 once every hosted service has started, STOPPING=1 when stopping, SIGTERM as the
    /// stop request. Registered directly, because AddSystemd() looks only for systemd as the parent process.
    /// </summary>
    public static void AddLifetime(IServiceCollection services)
    {
        services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddSingleton<IHostLifetime, SystemdLifetime>();
    }
}
