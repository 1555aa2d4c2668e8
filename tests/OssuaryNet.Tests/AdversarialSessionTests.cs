using System.Globalization;
using OssuaryNet.Adversarial;
using Xunit;
using Xunit.Abstractions;

namespace OssuaryNet.Tests;

/// <summary>
/// The two-party simulator of tests/OssuaryNet.Adversarial with fixed seeds: live client/server pairs in both
/// directions, one mutated frame per session (bit flips, truncation, duplication, drops, reordering, replays, splices
/// from another session or direction, length rewrites, injected alerts, garbage, empty frames), random chunking and
/// destination sizes, every invariant of <see cref="Session"/> and <see cref="Party"/> checked. Runs alone: it uses
/// every core.
/// </summary>
[Collection(ProcessWideMeasurements.Name)]
public sealed class AdversarialSessionTests(ITestOutputHelper output)
{
    private const int MutatedSessionsRequired = 100_000;

    [Fact]
    public void AHundredThousandMutatedSessionsKeepEveryInvariant()
    {
        CampaignReport report = Campaign.Run(firstSeed: 1, count: 145_000);
        output.WriteLine(report.ToString());
        Assert.True(report.Counterexamples.IsEmpty, report.ToString());
        Assert.True(report.MutatedSessions >= MutatedSessionsRequired, $"only {report.MutatedSessions} sessions were mutated");
        Assert.True(report.CleanSessions > 0, "no unmutated session was checked");
    }

    [Fact]
    public void EverySavedCounterexampleStillPasses()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Corpus", "sessions.txt"));
        int cases = 0;
        foreach (string line in lines.Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            string[] f = line.Split(' ');
            var mutation = new Mutation(bool.Parse(f[1]), int.Parse(f[2], CultureInfo.InvariantCulture), Enum.Parse<MutationKind>(f[3]), int.Parse(f[4], CultureInfo.InvariantCulture));
            SessionResult result = Session.Run(int.Parse(f[0], CultureInfo.InvariantCulture), mutation);
            Assert.True(result.Mutated, $"{line}: the mutation no longer reaches its frame");
            Assert.True(result.Violations.Count == 0, result.ToString());
            cases++;
        }
        Assert.True(cases > 0, "the corpus is empty");
    }
}
