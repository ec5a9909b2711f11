namespace Coffer.Server.Lifecycle;

/// <summary>Waits on the server's <see cref="TimeProvider"/> for an instant, not for a duration.</summary>
internal static class ClockWait
{
    /// <summary>More than a real clock moves between two readings a few instructions apart.</summary>
    private static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(1);

    /// <summary>Returns once <paramref name="time"/> reads <paramref name="due"/> or later.</summary>
    /// <remarks>
    /// A timer runs for a duration from the clock's reading when the timer is made. Should the clock move
    /// on between the reading the duration came from and the making of the timer, the timer ends that
    /// much too late: with a <c>FakeTimeProvider</c> that a test moves by days on another thread, a whole
    /// step late, and the test waits for a pass that comes only at its next move. So the clock is read
    /// again once the timer exists, and a timer made after a move is made again from the new reading (a
    /// move after the timer exists fires it as it should).
    /// </remarks>
    public static async Task UntilAsync(this TimeProvider time, DateTimeOffset due, CancellationToken ct)
    {
        for (var now = time.GetUtcNow(); now < due; now = time.GetUtcNow())
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(due - now, time, timer.Token);
            if (time.GetUtcNow() - now <= Resolution)
            {
                await delay;
            }
            else
            {
                await timer.CancelAsync();
                ct.ThrowIfCancellationRequested();
            }
        }
    }
}
