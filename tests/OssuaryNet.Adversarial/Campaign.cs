using System.Collections.Concurrent;
using System.Diagnostics;

namespace OssuaryNet.Adversarial;

/// <summary>What a run of many sessions saw.</summary>
public sealed class CampaignReport
{
    private long _sessions, _mutatedSessions, _cleanSessions;

    public long Sessions => Interlocked.Read(ref _sessions);
    public long MutatedSessions => Interlocked.Read(ref _mutatedSessions);
    public long CleanSessions => Interlocked.Read(ref _cleanSessions);

    /// <summary>Counts one finished session (called from many threads).</summary>
    public void CountSession(bool mutated)
    {
        Interlocked.Increment(ref _sessions);
        Interlocked.Increment(ref mutated ? ref _mutatedSessions : ref _cleanSessions);
    }
    public ConcurrentDictionary<string, long> Outcomes { get; } = new();
    public ConcurrentBag<SessionResult> Counterexamples { get; } = [];
    public TimeSpan Elapsed { get; set; }

    public override string ToString()
    {
        var lines = new List<string>
        {
            $"{Sessions:N0} sessions in {Elapsed.TotalSeconds:0.0} s ({Sessions / Math.Max(Elapsed.TotalSeconds, 1e-3):N0}/s): {MutatedSessions:N0} mutated, {CleanSessions:N0} with the mutation not reached (checked as clean)",
        };
        lines.AddRange(Outcomes.OrderByDescending(o => o.Value).Take(12).Select(o => $"  {o.Value,9:N0}  {o.Key}"));
        lines.Add($"{Counterexamples.Count} counterexample(s)");
        lines.AddRange(Counterexamples.Take(10).Select(c => c.ToString()));
        return string.Join('\n', lines);
    }
}

/// <summary>Runs sessions over a range of seeds, or for a time, on every core.</summary>
public static class Campaign
{
    public static CampaignReport Run(int firstSeed, int count) => Run(firstSeed, count, TimeSpan.MaxValue);

    public static CampaignReport Run(int firstSeed, int count, TimeSpan duration)
    {
        var report = new CampaignReport();
        var clock = Stopwatch.StartNew();
        long next = firstSeed;
        long last = (long)firstSeed + count;
        Parallel.For(0, Environment.ProcessorCount, _ =>
        {
            while (clock.Elapsed < duration)
            {
                long seed = Interlocked.Increment(ref next) - 1;
                if (seed >= last)
                {
                    return;
                }
                SessionResult result = Session.Run(unchecked((int)seed));
                report.CountSession(result.Mutated);
                string outcome = result.Mutated ? $"{result.Mutation!.Kind}: client {result.ClientError?.ToString() ?? "ok"}, server {result.ServerError?.ToString() ?? "ok"}" : "clean";
                report.Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                if (result.Violations.Count > 0)
                {
                    report.Counterexamples.Add(result);
                }
            }
        });
        report.Elapsed = clock.Elapsed;
        return report;
    }
}
