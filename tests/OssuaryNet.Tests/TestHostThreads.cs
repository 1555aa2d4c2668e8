using System.Runtime.CompilerServices;

namespace OssuaryNet.Tests;

internal static class TestHostThreads
{
    /// <summary>
    /// The test host keeps two thread-pool threads blocked for the whole run (VSTest's message loop polls a socket and
    /// the xunit adapter waits on its assembly runner, as a stack dump of the host shows). On a two-core machine that
    /// leaves the pool one thread, so a timer callback can wait half a second for the pool to inject another, which
    /// tests of timeouts and keep-alives would misread. Raising the minimum gives tests the pool an application has.
    /// </summary>
    [ModuleInitializer]
    internal static void GiveThePoolItsThreadsBack()
    {
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, Environment.ProcessorCount + 4), completionPorts);
    }
}
