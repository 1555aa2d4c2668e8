using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>The RFC 6479 replay window of datagram mode: edges, a scripted sequence, and a model-based property.</summary>
public sealed class ReplayWindowTests
{
    private const ulong Limit = ulong.MaxValue - (1UL << 13); // 2^64 − 2^13 − 1 messages: counters 0 … limit − 1

    [Fact]
    public void TheWindowIs4032()
    {
        Assert.Equal(4032UL, ReplayWindow.Size);
    }

    /// <summary>A scripted sequence in the manner of WireGuard's replay test, worked out for a window of 4032.</summary>
    [Fact]
    public void AScriptedSequenceAcceptsEachCounterOnceWithinTheWindow()
    {
        var window = new ReplayWindow(Limit);
        (ulong Counter, bool Accepted)[] script =
        [
            (0, true), (1, true), (1, false), (9, true), (8, true), (7, true), (7, false), (0, false),
            (ReplayWindow.Size, true), (ReplayWindow.Size + 1, true), (ReplayWindow.Size + 1, false),
            (2, true),                          // highest 4033: 4033 − 2 = 4031 ≤ 4032, inside
            (1, false),                         // seen before, and 4033 − 1 = 4032 is the very edge: still a duplicate
            (ReplayWindow.Size + 3, true),      // highest 4035
            (2, false),                         // 4035 − 2 = 4033 > 4032: behind the window
            (3, true),                          // 4035 − 3 = 4032: the last counter inside, never seen
            (3, false),
            (ReplayWindow.Size * 3, true),      // a jump larger than the whole ring
            (ReplayWindow.Size * 3 - 1, true),
            (ReplayWindow.Size * 2, true),      // exactly 4032 behind
            (ReplayWindow.Size * 2 - 1, false), // 4033 behind
            (ReplayWindow.Size * 2, false),
        ];
        foreach ((ulong counter, bool accepted) in script)
        {
            Assert.True(accepted == window.TryCommit(counter), $"counter {counter}: expected {(accepted ? "accepted" : "refused")}");
        }
    }

    [Fact]
    public void TheEdgesOfTheWindowAndOfTheLimit()
    {
        var window = new ReplayWindow(Limit);
        Assert.Equal(ReplayVerdict.Acceptable, window.Classify(0));
        Assert.True(window.TryCommit(100_000));
        Assert.Equal(ReplayVerdict.Acceptable, window.Classify(100_000 - ReplayWindow.Size));
        Assert.Equal(ReplayVerdict.BehindWindow, window.Classify(100_000 - ReplayWindow.Size - 1));
        Assert.Equal(ReplayVerdict.Duplicate, window.Classify(100_000));
        Assert.Equal(ReplayVerdict.Acceptable, window.Classify(Limit - 1));
        Assert.Equal(ReplayVerdict.BeyondLimit, window.Classify(Limit));
        Assert.Equal(ReplayVerdict.BeyondLimit, window.Classify(ulong.MaxValue));
        Assert.False(window.TryCommit(Limit));
        Assert.Equal(100_000UL, window.Highest); // a refused counter changes nothing
        Assert.True(window.TryCommit(Limit - 1));
        Assert.False(window.TryCommit(Limit - 1));
        Assert.Equal(ReplayVerdict.BehindWindow, window.Classify(100_000));
    }

    [Fact]
    public void ThePreCheckChangesNothing()
    {
        var window = new ReplayWindow(Limit);
        window.TryCommit(10);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(window.MayAccept(1UL << 40)); // e.g. a forged packet far ahead, checked before the AEAD
            Assert.True(window.MayAccept(11));
        }
        Assert.Equal(10UL, window.Highest);
        Assert.True(window.TryCommit(9)); // still inside: the forged jump never moved the window
    }

    /// <summary>
    /// Against a model that remembers every accepted counter: accepted iff below the limit, never accepted before, and
    /// either beyond the highest or at most 4032 behind it. The pre-check always predicts the commit.
    /// </summary>
    [Property(MaxTest = 10_000, Replay = "(20261128,5)")]
    public Property TheWindowBehavesAsTheSetModelSays()
    {
        // Mostly small steps forward and back (reordering, duplicates), sometimes jumps, around the window's size.
        Gen<long> step = Gen.Frequency(
            (8, Gen.Choose(-70, 70).Select(x => (long)x)),
            (3, Gen.Choose(-4100, 4100).Select(x => (long)x)),
            (1, Gen.Choose(-9000, 9000).Select(x => (long)x * 3)));
        Gen<long[]> walks = Gen.ArrayOf(step);
        return Prop.ForAll(walks.ToArbitrary(), steps =>
        {
            const ulong limit = 1UL << 20;
            var window = new ReplayWindow(limit);
            var accepted = new HashSet<ulong>();
            ulong highest = 0;
            long position = 0;
            foreach (long delta in steps)
            {
                position = Math.Clamp(position + delta, 0, (long)limit + 10);
                ulong counter = (ulong)position;
                bool expected = counter < limit && !accepted.Contains(counter)
                                && (accepted.Count == 0 || counter > highest || highest - counter <= ReplayWindow.Size);
                bool predicted = window.MayAccept(counter);
                bool actual = window.TryCommit(counter);
                if (predicted != expected || actual != expected)
                {
                    return false;
                }
                if (actual)
                {
                    accepted.Add(counter);
                    highest = Math.Max(highest, counter);
                }
            }
            return window.Highest == highest;
        });
    }
}
