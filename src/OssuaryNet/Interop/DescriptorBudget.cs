using System.Runtime.InteropServices;

namespace OssuaryNet.Interop;

/// <summary>
/// How many connections a server that holds a descriptor for each (a TCP listener; a UDP tunnel's socket per flow) may
/// keep within the process's descriptor limit: a new descriptor that leaves fewer than <see cref="RuntimeReserve"/>
/// free is given back at once, and running out (EMFILE) lowers the cap to <see cref="Headroom"/> below the point where
/// it happened, for <see cref="CeilingLifetime"/>, since the real limit (other descriptors count too) was lower than
/// the configured one.
/// </summary>
/// <remarks>Thread-safe: the ceiling is written whole and read whole.</remarks>
internal sealed class DescriptorBudget
{
    /// <summary>Descriptors left to the rest of the process whatever the cap: the runtime needs some to start threads, and aborts ("Out of memory") when it cannot.</summary>
    public const int RuntimeReserve = 32;

    /// <summary>Connections' worth of descriptors kept free below the point where opening one failed.</summary>
    public const int Headroom = 16;

    public static readonly TimeSpan CeilingLifetime = TimeSpan.FromSeconds(30);

    // The process's descriptor limit (RLIMIT_NOFILE), read once; null where it cannot be read.
    private static readonly long? ProcessLimit = DescriptorLimit.Current();

    private readonly TimeProvider _clock;
    private Ceiling _ceiling = new(int.MaxValue, TimeSpan.MinValue);

    public DescriptorBudget(TimeProvider clock) => _clock = clock;

    private TimeSpan Now => _clock.GetElapsedTime(0);

    /// <summary>
    /// Whether <paramref name="descriptor"/> (just opened) leaves fewer than <see cref="RuntimeReserve"/> descriptors
    /// free. The kernel hands out the lowest free descriptor, so a number this close to the limit means every lower one
    /// is taken. (Holes below can hide a nearly full table; opening then fails with EMFILE, which the caller handles too.)
    /// </summary>
    public static bool LeavesTooFew(SafeHandle descriptor) =>
        ProcessLimit is long limit && (long)descriptor.DangerousGetHandle() >= limit - RuntimeReserve;

    /// <summary><paramref name="configured"/>, or the lower ceiling learned when descriptors ran out, while it lasts.</summary>
    public int Limit(int configured)
    {
        Ceiling ceiling = Volatile.Read(ref _ceiling);
        return ceiling.Value < configured && Now - ceiling.Since < CeilingLifetime ? ceiling.Value : configured;
    }

    /// <summary>Opening a descriptor failed (or left too few) with <paramref name="active"/> connections held: the cap comes down below that.</summary>
    public void RanOut(int active) => Volatile.Write(ref _ceiling, new Ceiling(Math.Max(1, active - Headroom), Now));

    private sealed record Ceiling(int Value, TimeSpan Since);
}
