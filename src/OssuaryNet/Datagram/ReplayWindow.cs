namespace OssuaryNet.Datagram;

/// <summary>
/// The anti-replay window of one receive key in datagram mode: RFC 6479's ring of 64 blocks of 64 bits, which accepts
/// each counter at most once and any counter no more than <see cref="Size"/> behind the highest one accepted.
/// </summary>
/// <remarks>
/// <para>The check is split in two so that a forged packet changes nothing (the lesson of CVE-2024-58265):
/// <see cref="MayAccept"/> is a read-only pre-check made before the AEAD opens the packet; only once it has opened does
/// the caller <see cref="TryCommit"/>, which checks again and records the counter.</para>
/// <para>Invariants: <c>_highest</c> is the highest committed counter (0 before any); the ring holds exactly the bits
/// of the committed counters in the blocks from <c>_highest / 64 - 63</c> to <c>_highest / 64</c>. Moving forward
/// clears the blocks the window enters, which held counters at least 4096 behind, already outside it. A window is
/// never reset: a new key pair gets a new one.</para>
/// </remarks>
internal sealed class ReplayWindow
{
    private const int BlockBits = 64;
    private const int Blocks = 64;

    /// <summary>How far behind the highest accepted counter a counter may still be accepted: (64 − 1) × 64.</summary>
    public const ulong Size = (Blocks - 1) * BlockBits;

    private readonly ulong[] _ring = new ulong[Blocks];
    private readonly ulong _limit;
    private ulong _highest;

    /// <param name="limit">The first counter never accepted (the key pair's message limit).</param>
    public ReplayWindow(ulong limit) => _limit = limit;

    /// <summary>The highest counter committed so far (0 before any).</summary>
    public ulong Highest => _highest;

    /// <summary>Whether <paramref name="counter"/> could be accepted now. Changes nothing.</summary>
    public bool MayAccept(ulong counter) => Classify(counter) == ReplayVerdict.Acceptable;

    /// <summary>Why a counter would be refused, or <see cref="ReplayVerdict.Acceptable"/>. Changes nothing.</summary>
    public ReplayVerdict Classify(ulong counter)
    {
        if (counter >= _limit)
        {
            return ReplayVerdict.BeyondLimit;
        }
        if (counter > _highest)
        {
            return ReplayVerdict.Acceptable;
        }
        if (_highest - counter > Size)
        {
            return ReplayVerdict.BehindWindow;
        }
        return (_ring[BlockOf(counter)] & BitOf(counter)) == 0 ? ReplayVerdict.Acceptable : ReplayVerdict.Duplicate;
    }

    /// <summary>
    /// Records an authenticated packet's counter; false (and nothing changes) when <see cref="Classify"/> refuses it,
    /// e.g. because the same counter was committed since the pre-check.
    /// </summary>
    public bool TryCommit(ulong counter)
    {
        if (Classify(counter) != ReplayVerdict.Acceptable)
        {
            return false;
        }
        if (counter > _highest)
        {
            ulong current = _highest / BlockBits;
            ulong target = counter / BlockBits;
            // Clear the blocks the window moves into; a jump of a whole ring or more clears them all.
            ulong entering = Math.Min(target - current, Blocks);
            for (ulong block = current + 1; block <= current + entering; block++)
            {
                _ring[(int)(block % Blocks)] = 0;
            }
            _highest = counter;
        }
        _ring[BlockOf(counter)] |= BitOf(counter);
        return true;
    }

    private static int BlockOf(ulong counter) => (int)(counter / BlockBits % Blocks);

    private static ulong BitOf(ulong counter) => 1UL << (int)(counter % BlockBits);
}
