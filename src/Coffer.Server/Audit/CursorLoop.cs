using Coffer.Server.Hosting;

namespace Coffer.Server.Audit;

/// <summary>
/// The loop behind a consumer of the durable audit chain (sinks, alerts): run a step until it says it
/// is caught up, then poll; when it throws, wait with exponential backoff and try the same step again.
/// Nothing is skipped on failure because the consumer's cursor only moves after a step succeeds.
/// </summary>
internal static class CursorLoop
{
    /// <param name="step">Does one batch of work; false when there was nothing to do.</param>
    /// <param name="idle">How long to wait when caught up (may be cut short by <paramref name="wake"/>).</param>
    /// <param name="firstRetryDelay">The wait after a failure; it doubles with each failure in a row.</param>
    /// <param name="maxRetryDelay">The longest wait after a failure.</param>
    /// <param name="failed">Told of each failure (n, delay, exception), to log and report it.</param>
    /// <param name="recovered">Told when a step succeeds after n failures.</param>
    /// <param name="time">The clock of the idle and backoff waits.</param>
    /// <param name="ct">Ends the loop.</param>
    /// <param name="wake">Optional: signalled when work may be waiting, ends an idle wait early.</param>
    /// <param name="resume">Optional: runs before the first step (retried like one), to reload a cursor
    /// that another node may have moved while this one was not the cluster's leader.</param>
    public static async Task RunAsync(
        Func<CancellationToken, Task<bool>> step,
        Func<TimeSpan> idle,
        TimeSpan firstRetryDelay,
        TimeSpan maxRetryDelay,
        Action<int, TimeSpan, Exception> failed,
        Action<int> recovered,
        TimeProvider time,
        CancellationToken ct,
        SemaphoreSlim? wake = null,
        Func<CancellationToken, Task>? resume = null)
    {
        var retry = new BackoffRetry(firstRetryDelay, maxRetryDelay, time, failed);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var caughtUp = await retry.RunAsync(
                    async c =>
                    {
                        if (resume is not null)
                        {
                            await resume(c);
                            resume = null;
                        }

                        return !await step(c);
                    },
                    ct);

                var failures = retry.Reset();
                if (failures > 0)
                {
                    recovered(failures);
                }

                if (caughtUp)
                {
                    await IdleAsync(idle(), time, wake, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static async Task IdleAsync(TimeSpan idle, TimeProvider time, SemaphoreSlim? wake, CancellationToken ct)
    {
        if (idle <= TimeSpan.Zero)
        {
            return;
        }

        if (wake is null)
        {
            await Task.Delay(idle, time, ct);
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var delay = Task.Delay(idle, time, timeout.Token);
        var woken = wake.WaitAsync(timeout.Token);
        await Task.WhenAny(delay, woken);
        await timeout.CancelAsync();
        ct.ThrowIfCancellationRequested();
        // Observe the loser's cancellation; a wake that raced the timer is consumed either way.
        try
        {
            await Task.WhenAll(delay, woken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
