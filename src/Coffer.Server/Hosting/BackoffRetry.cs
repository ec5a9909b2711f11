using Polly;
using Polly.Retry;

namespace Coffer.Server.Hosting;

/// <summary>
/// Coffer's one way to retry background work that failed (the audit sinks and alerts' cursor loops, the
/// cluster's change listener): Polly's retry on the node's <see cref="TimeProvider"/>, so tests move a
/// fake clock instead of sleeping. Every failure is retried, except the caller's own cancellation, until
/// the work succeeds or the node stops; the n-th failure in a row waits <c>first · 2^(n-1)</c>, never
/// more than <c>max</c>. <see cref="Reset"/> starts the count again (a success, or a connection made).
/// </summary>
/// <remarks>Not thread-safe: one loop owns each instance.</remarks>
internal sealed class BackoffRetry
{
    private readonly TimeSpan _first;
    private readonly TimeSpan _max;
    private readonly ResiliencePipeline _pipeline;
    private int _failures;

    /// <param name="first">The wait after the first failure.</param>
    /// <param name="max">The longest wait.</param>
    /// <param name="time">The clock of the waits.</param>
    /// <param name="failed">Told of each failure (failures in a row, the wait before the next try, the
    /// exception), to log and report it.</param>
    public BackoffRetry(TimeSpan first, TimeSpan max, TimeProvider time, Action<int, TimeSpan, Exception> failed)
    {
        _first = first;
        _max = max;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && !(e is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)),
                DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(Backoff(++_failures, _first, _max)),
                OnRetry = args =>
                {
                    failed(_failures, args.RetryDelay, args.Outcome.Exception!);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Runs <paramref name="work"/> until it succeeds; throws only when <paramref name="ct"/> is
    /// cancelled.</summary>
    public ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken ct) => _pipeline.ExecuteAsync(work, ct);

    /// <inheritdoc cref="RunAsync{T}(Func{CancellationToken, ValueTask{T}}, CancellationToken)"/>
    public ValueTask RunAsync(Func<CancellationToken, ValueTask> work, CancellationToken ct) => _pipeline.ExecuteAsync(work, ct);

    /// <summary>Starts the count of failures in a row again; returns how many there were.</summary>
    public int Reset()
    {
        var failures = _failures;
        _failures = 0;
        return failures;
    }

    /// <summary>The wait after the n-th failure in a row: <paramref name="first"/>, doubling, at most
    /// <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan first, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(first.TotalMilliseconds * factor, max.TotalMilliseconds));
    }
}
