using Spectre.Console;

namespace OssuaryNet.Cli;

/// <summary>A progress bar on a terminal (stderr), plain lines every 10 % otherwise.</summary>
internal static class TransferProgress
{
    public static async Task<T> RunAsync<T>(string description, long total, Func<Action<long>, Task<T>> work)
    {
        if (!Console.IsErrorRedirected)
        {
            IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            T result = default!;
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    // The description holds a file name: markup in it would be rendered, or throw.
                    ProgressTask task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
                    result = await work(done => task.Value = done);
                    task.Value = task.MaxValue;
                });
            return result;
        }
        int lastTenth = -1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        T value = await work(done =>
        {
            int tenth = total == 0 ? 10 : (int)(done * 10 / total);
            if (tenth != lastTenth)
            {
                lastTenth = tenth;
                double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-3);
                Console.Error.WriteLine($"{description}: {tenth * 10}% ({done:N0} of {total:N0} bytes, {done / seconds / 1e6:0.0} MB/s)");
            }
        });
        return value;
    }
}
