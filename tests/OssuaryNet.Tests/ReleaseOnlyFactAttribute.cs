using System.Diagnostics;
using Xunit;

namespace OssuaryNet.Tests;

/// <summary>
/// A fact about optimized code: skipped, with the reason, when OssuaryNet was built without optimization (Debug), where
/// the compiler turns every async state machine into a class allocated on each call. scripts/test.sh and CI run
/// Release, where such a test always runs.
/// </summary>
public sealed class ReleaseOnlyFactAttribute : FactAttribute
{
    public static bool OssuaryNetIsOptimized { get; } =
        typeof(OssuaryStream).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }];

    public ReleaseOnlyFactAttribute()
    {
        if (!OssuaryNetIsOptimized)
        {
            Skip = "Allocation counts hold for optimized code only: OssuaryNet was built in Debug. Run with -c Release (as scripts/test.sh does).";
        }
    }
}
