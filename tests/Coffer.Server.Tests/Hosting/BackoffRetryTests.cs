using System.Collections.Concurrent;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Hosting;

/// <summary>How Coffer's background loops retry (<c>Hosting/BackoffRetry.cs</c>), driven by a fake clock:
/// the n-th failure in a row waits the first delay doubled n-1 times, capped; a success starts again.</summary>
public sealed class BackoffRetryTests
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Max = TimeSpan.FromMilliseconds(600);

    [Fact]
    public async Task A_cursor_loop_retries_a_failing_step_after_doubling_capped_waits_then_reports_the_recovery()
    {
        var time = new FakeTimeProvider();
        var calls = 0;
        var failures = new ConcurrentQueue<(int Failures, TimeSpan Delay)>();
        var recovered = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();

        // Three failures, then caught up (the loop then idles for an hour of fake time).
        var loop = CursorLoop.RunAsync(
            _ => Interlocked.Increment(ref calls) <= 3 ? Task.FromException<bool>(new IOException("receiver down")) : Task.FromResult(false),
            () => TimeSpan.FromHours(1),
            First,
            Max,
            (n, delay, _) => failures.Enqueue((n, delay)),
            n => recovered.TrySetResult(n),
            time,
            stop.Token);

        foreach (var (expected, wait) in new[] { (1, First), (2, First * 2), (3, Max) })
        {
            await Wait.UntilAsync(() => failures.Count == expected, $"failure {expected}");
            Assert.Equal(expected, Volatile.Read(ref calls));
            time.Advance(wait - TimeSpan.FromMilliseconds(1));
            Assert.Equal(expected, Volatile.Read(ref calls)); // not before its wait is over
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(3, await recovered.Task.WaitAsync(Wait.Patience));
        Assert.Equal(new[] { (1, First), (2, First * 2), (3, Max) }, failures.ToArray());
        await stop.CancelAsync();
        await loop.WaitAsync(Wait.Patience); // the stop ends the loop without an exception
        Assert.Equal(4, calls);
    }

    [Fact]
    public void The_wait_doubles_from_the_first_and_stops_at_the_longest()
    {
        Assert.Equal(
            new[] { 250.0, 500.0, 1000.0, 2000.0, 2000.0 },
            new[] { 1, 2, 3, 4, 40 }.Select(n => BackoffRetry.Backoff(n, First, TimeSpan.FromSeconds(2)).TotalMilliseconds));
    }
}
