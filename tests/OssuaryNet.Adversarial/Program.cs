using System.Globalization;
using OssuaryNet.Adversarial;

// Long runs of the adversarial harness. CI runs fixed seeds through the tests; this explores new ones:
//   dotnet run -c Release --project tests/OssuaryNet.Adversarial -- --minutes 30 [--seed 1000000]
// Exits 1 if any session broke an invariant, printing each counterexample's seed and mutation: add them to
// tests/OssuaryNet.Tests/Corpus/sessions.txt so that CI replays them from then on.
int minutes = 1;
int seed = Environment.TickCount & 0x3fffffff;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--minutes":
            minutes = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        case "--seed":
            seed = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}; use --minutes N and --seed S");
            return 2;
    }
}
Console.WriteLine($"first seed {seed}, {minutes} minute(s) on {Environment.ProcessorCount} cores");
CampaignReport report = Campaign.Run(seed, int.MaxValue - seed, TimeSpan.FromMinutes(minutes));
Console.WriteLine(report);
foreach (SessionResult counterexample in report.Counterexamples)
{
    Console.WriteLine($"corpus line: {counterexample.Seed} {counterexample.Mutation?.FromClient} {counterexample.Mutation?.FrameIndex} {counterexample.Mutation?.Kind} {counterexample.Mutation?.Parameter}");
}
return report.Counterexamples.IsEmpty ? 0 : 1;
