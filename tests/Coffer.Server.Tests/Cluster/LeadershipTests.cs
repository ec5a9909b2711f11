using Coffer.Server.Cluster;

namespace Coffer.Server.Tests.Cluster;

/// <summary>The one gate of scheduled work: it runs only during a term, and a term that is not renewed
/// ends by itself on this node's clock (docs/cluster.md).</summary>
public sealed class LeadershipTests
{
    [Fact]
    public async Task Work_waits_for_a_term_and_starts_afresh_in_each_one()
    {
        using var leadership = new Leadership();
        using var stop = new CancellationTokenSource();
        var starts = 0;
        var running = leadership.RunWhileLeaderAsync(async ct =>
        {
            Interlocked.Increment(ref starts);
            await Task.Delay(Timeout.Infinite, ct);
        }, stop.Token);

        await Task.Delay(100);
        Assert.Equal(0, starts);

        Assert.True(leadership.Hold(TimeSpan.FromMinutes(1)));
        await Testing.Wait.UntilAsync(() => starts == 1, "the work to start with the term");
        Assert.False(leadership.Hold(TimeSpan.FromMinutes(1))); // a renewal, not a new term

        leadership.End();
        Assert.False(leadership.IsLeader);
        Assert.True(leadership.Hold(TimeSpan.FromMinutes(1)));
        await Testing.Wait.UntilAsync(() => starts == 2, "the work to start again in the next term");

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_term_that_is_not_renewed_ends_at_its_deadline_and_stops_the_work()
    {
        using var leadership = new Leadership();
        using var stop = new CancellationTokenSource();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = leadership.RunWhileLeaderAsync(async ct =>
        {
            using var _ = ct.Register(stopped.SetResult);
            await Task.Delay(Timeout.Infinite, ct);
        }, stop.Token);

        // A term of a second, renewed once 150 ms in: a loaded machine may wake the renewal late, but not
        // a whole term late, and the bound is taken from when the renewal really happened.
        var term = TimeSpan.FromSeconds(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(leadership.Hold(term));
        await Task.Delay(150);
        var renewedAt = clock.Elapsed;
        Assert.False(leadership.Hold(term)); // a renewal of the running term, then never again
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(leadership.IsLeader);
        // Less 20 ms: the timer that ends the term counts in milliseconds, the stopwatch finer.
        Assert.InRange(clock.Elapsed, renewedAt + term - TimeSpan.FromMilliseconds(20), renewedAt + term + TimeSpan.FromSeconds(5));
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
