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
    /// <param name="retryDelay">The wait after the n-th failure in a row.</param>
    /// <param name="failed">Told of each failure (n, delay, exception), to log and report it.</param>
    /// <param name="recovered">Told when a step succeeds after n failures.</param>
    /// <param name="wake">Optional: signalled when work may be waiting, ends an idle wait early.</param>
    /// <param name="resume">Optional: runs before the first step (retried like one), to reload a cursor
    /// that another node may have moved while this one was not the cluster's leader.</param>
    public static async Task RunAsync(
        Func<CancellationToken, Task<bool>> step,
        Func<TimeSpan> idle,
        Func<int, TimeSpan> retryDelay,
        Action<int, TimeSpan, Exception> failed,
        Action<int> recovered,
        TimeProvider time,
        CancellationToken ct,
        SemaphoreSlim? wake = null,
        Func<CancellationToken, Task>? resume = null)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (resume is not null)
                {
                    await resume(ct);
                    resume = null;
                }

                if (!await step(ct))
                {
                    await IdleAsync(idle(), time, wake, ct);
                }

                if (failures > 0)
                {
                    recovered(failures);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                failures++;
                var delay = retryDelay(failures);
                failed(failures, delay, e);
                try
                {
                    await Task.Delay(delay, time, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>250 ms, 500 ms, 1 s, ... doubling from <paramref name="first"/> up to <paramref name="max"/>.</summary>
    public static TimeSpan Backoff(int failures, TimeSpan first, TimeSpan max)
    {
        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(first.TotalMilliseconds * factor, max.TotalMilliseconds));
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
