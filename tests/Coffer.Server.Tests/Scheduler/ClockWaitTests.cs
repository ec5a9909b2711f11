using Coffer.Server.Lifecycle;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Scheduler;

/// <summary>
/// The wait of the destruction sweeper and the audit retention (src/Coffer.Server/Lifecycle/ClockWait.cs):
/// a clock moved on between reading it and setting the timer must not make the wait a whole move late.
/// </summary>
public sealed class ClockWaitTests
{
    private static readonly DateTimeOffset Origin = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A fake clock that a test moves on once, at the worst moment: just before the first
    /// timer is made, as a test's Advance on another thread can.</summary>
    private sealed class MovedBeforeTheTimer(TimeSpan move) : FakeTimeProvider(Origin)
    {
        private bool _moved;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (!_moved)
            {
                _moved = true;
                Advance(move);
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    [Fact]
    public async Task A_move_past_the_instant_before_the_timer_exists_ends_the_wait()
    {
        var time = new MovedBeforeTheTimer(TimeSpan.FromDays(7));

        await time.UntilAsync(Origin + TimeSpan.FromMinutes(1), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Origin + TimeSpan.FromDays(7), time.GetUtcNow());
    }

    [Fact]
    public async Task A_move_short_of_the_instant_before_the_timer_exists_waits_for_the_rest_only()
    {
        var time = new MovedBeforeTheTimer(TimeSpan.FromSeconds(40));
        var wait = time.UntilAsync(Origin + TimeSpan.FromMinutes(1), CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        await wait.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task An_instant_already_past_does_not_wait()
    {
        var time = new FakeTimeProvider(Origin);

        await time.UntilAsync(Origin - TimeSpan.FromSeconds(1), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
