using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram.Udp;

/// <summary>The wake-up of a connection's readers: no signal lost, every waiter woken, cancellation, reuse.</summary>
public sealed class ReceiveSignalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_signal_given_while_nobody_waits_is_kept_for_the_next_wait_only()
    {
        var signal = new ReceiveSignal();
        signal.Signal();
        signal.Signal(); // not counted twice
        Assert.True(signal.WaitAsync(default).IsCompletedSuccessfully);
        ValueTask second = signal.WaitAsync(default);
        Assert.False(second.IsCompleted);
        signal.Signal();
        await second.AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task The_reusable_wait_completes_again_and_again()
    {
        var signal = new ReceiveSignal();
        for (int i = 0; i < 1000; i++)
        {
            ValueTask wait = signal.WaitAsync(default);
            _ = Task.Run(signal.Signal);
            await wait.AsTask().WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task Every_concurrent_waiter_is_woken()
    {
        var signal = new ReceiveSignal();
        ValueTask[] waits = [.. Enumerable.Range(0, 5).Select(_ => signal.WaitAsync(default))];
        Assert.All(waits, w => Assert.False(w.IsCompleted));
        signal.Signal();
        foreach (ValueTask wait in waits)
        {
            await wait.AsTask().WaitAsync(Patience);
        }
        Assert.False(signal.WaitAsync(default).IsCompleted); // the signal was consumed by the waiters, not kept
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_leaves_the_signal_usable()
    {
        var signal = new ReceiveSignal();
        using var cancel = new CancellationTokenSource();
        ValueTask wait = signal.WaitAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(Patience));
        Assert.True(signal.WaitAsync(cancel.Token).IsCanceled);

        ValueTask next = signal.WaitAsync(default);
        signal.Signal();
        await next.AsTask().WaitAsync(Patience);
    }

    [Fact]
    public async Task A_waiter_that_comes_before_the_previous_took_its_result_does_not_disturb_it()
    {
        var signal = new ReceiveSignal();
        ValueTask first = signal.WaitAsync(default);
        signal.Signal();
        ValueTask second = signal.WaitAsync(default); // the first has not taken its result: the second must not reset the source
        await first; // would throw if the source had been reset under it
        signal.Signal();
        await second.AsTask().WaitAsync(Patience);
    }
}
