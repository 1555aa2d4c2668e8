using System.Runtime.InteropServices;

namespace OssuaryNet.Interop;

/// <summary>
/// The process's limit on open file descriptors (<c>getrlimit(RLIMIT_NOFILE)</c>), from which the listener derives
/// its default connection cap. .NET has no API for it, hence this binding to the C library.
/// </summary>
internal static partial class DescriptorLimit
{
    private const int LinuxRlimitNoFile = 7;
    private const int MacRlimitNoFile = 8;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);

    /// <summary>The soft limit, or null where there is none to read (Windows) or it cannot be read.</summary>
    public static long? Current()
    {
        int resource = OperatingSystem.IsLinux() ? LinuxRlimitNoFile : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? MacRlimitNoFile : -1;
        if (resource < 0)
        {
            return null;
        }
        try
        {
            return GetRLimit(resource, out RLimit limit) == 0 ? (long)Math.Min(limit.Current, long.MaxValue) : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }
}
