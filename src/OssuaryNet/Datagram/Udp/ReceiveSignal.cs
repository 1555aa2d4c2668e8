using System.Threading.Tasks.Sources;

namespace OssuaryNet.Datagram;

/// <summary>
/// Wakes the readers of one connection when datagrams arrive or the connection closes, without allocating in the
/// steady state: the first waiter waits on one reusable <see cref="IValueTaskSource"/>; further concurrent waiters
/// (several readers of one connection, which is allowed but rare) each get a <see cref="TaskCompletionSource"/>, as
/// does a waiter that comes before the previous one has taken its result (the source is reset only after that).
/// </summary>
/// <remarks>
/// Invariants: a signal given while nobody waits is kept (<see cref="_pending"/>), so the next wait returns at once —
/// a reader that found the queue empty and then waits cannot miss a datagram queued in between. A signal wakes every
/// waiter; each re-checks the queue. Continuations run on the thread pool, never inline in <see cref="Signal"/>, which
/// the endpoint calls with its lock held.
/// </remarks>
internal sealed class ReceiveSignal : IValueTaskSource
{
    private readonly object _lock = new();
    private ManualResetValueTaskSourceCore<bool> _source = new() { RunContinuationsAsynchronously = true };
    private bool _handedOut;   // the reusable source's current ValueTask has not had its result taken yet
    private bool _waiting;     // ... and it is not completed yet
    private bool _pending;     // signalled while nobody waited
    private CancellationToken _waitToken;
    private CancellationTokenRegistration _registration;
    private List<TaskCompletionSource>? _others;

    /// <summary>Waits for the next signal (or returns at once if one came while nobody waited).</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_pending)
            {
                _pending = false;
                return ValueTask.CompletedTask;
            }
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }
            if (!_handedOut)
            {
                _handedOut = _waiting = true;
                _source.Reset();
                _waitToken = cancellationToken;
                if (cancellationToken.CanBeCanceled)
                {
                    _registration = cancellationToken.UnsafeRegister(static (state, token) => ((ReceiveSignal)state!).CancelWait(token), this);
                }
                return new ValueTask(this, _source.Version);
            }
            var other = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (_others ??= []).Add(other);
            if (cancellationToken.CanBeCanceled)
            {
                cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource)state!).TrySetCanceled(token), other);
            }
            return new ValueTask(other.Task);
        }
    }

    /// <summary>Wakes every waiter, or, if none waits, lets the next wait return at once.</summary>
    public void Signal()
    {
        lock (_lock)
        {
            bool woke = false;
            if (_waiting)
            {
                _waiting = false;
                _registration.Unregister(); // never Dispose here: it would wait for a running callback, which needs this lock
                _source.SetResult(true);
                woke = true;
            }
            if (_others is { Count: > 0 })
            {
                foreach (TaskCompletionSource other in _others)
                {
                    other.TrySetResult();
                }
                _others.Clear();
                woke = true;
            }
            _pending |= !woke;
        }
    }

    private void CancelWait(CancellationToken token)
    {
        lock (_lock)
        {
            // A callback that lost the race with Signal finds the wait completed (or a new one on another token): nothing to do.
            if (_waiting && _waitToken == token)
            {
                _waiting = false;
                _source.SetException(new OperationCanceledException(token));
            }
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        lock (_lock)
        {
            try
            {
                _source.GetResult(token);
            }
            finally
            {
                _handedOut = false; // only now may the source be reset for another wait
            }
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
