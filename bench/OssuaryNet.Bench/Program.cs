using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using OssuaryNet.Bench;

// dotnet run -c Release --project bench/OssuaryNet.Bench -- [--quick] [BenchmarkDotNet arguments, e.g. --filter '*Aead*']
// dotnet run -c Release --project bench/OssuaryNet.Bench -- memory [PAIRS]
// dotnet run -c Release --project bench/OssuaryNet.Bench -- cpu [TRANSFERS]
// dotnet run -c Release --project bench/OssuaryNet.Bench -- datagram-load [INITIATIONS]
// dotnet run -c Release --project bench/OssuaryNet.Bench -- handshake-bytes
if (args.Length > 0 && args[0] == "memory")
{
    await IdleMemory.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200);
    return 0;
}
if (args.Length > 0 && args[0] == "cpu")
{
    await BulkCpu.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100);
    return 0;
}

if (args.Length > 0 && args[0] == "handshake-bytes")
{
    HandshakeBytes.Run();
    return 0;
}

if (args.Length > 0 && args[0] == "datagram-load")
{
    DatagramLoad.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000);
    return 0;
}

bool quick = args.Contains("--quick");
string[] rest = args.Where(a => a != "--quick").ToArray();
IConfig config = DefaultConfig.Instance;
if (quick)
{
    // A smoke run: every benchmark executes a few times so none can rot; the figures mean nothing.
    config = config.AddJob(Job.Dry.WithWarmupCount(1).WithIterationCount(1).WithId("Quick"));
}
if (!rest.Contains("--filter") && !rest.Contains("--list"))
{
    rest = [.. rest, "--filter", "*"]; // never stop at the interactive menu
}
var summaries = BenchmarkSwitcher.FromAssembly(typeof(AeadBenchmarks).Assembly).Run(rest, config);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
