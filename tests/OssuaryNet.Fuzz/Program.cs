using OssuaryNet.Fuzz;
using SharpFuzz;

// Coverage-guided fuzzing with afl-fuzz: scripts/fuzz.sh TARGET SECONDS instruments OssuaryNet.dll and runs this.
// With "--replay TARGET FILE..." it runs the target once on each file (the seed corpora, in CI and to check a crash).
if (args.Length >= 2 && args[0] == "--replay")
{
    Action<byte[]> replay = Targets.All[args[1]];
    foreach (string file in args.Skip(2))
    {
        replay(File.ReadAllBytes(file));
    }
    Console.WriteLine($"replayed {args.Length - 2} input(s) through {args[1]}");
    return 0;
}
if (args.Length == 2 && args[0] == "--write-seeds")
{
    Targets.WriteSeeds(args[1]);
    return 0;
}
if (args.Length != 1 || !Targets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.Error.WriteLine($"usage: OssuaryNet.Fuzz TARGET | --replay TARGET FILE...   (targets: {string.Join(", ", Targets.All.Keys)})");
    return 2;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
