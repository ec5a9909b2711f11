namespace Coffer.Server.Lifecycle;

/// <summary>Waits on the server's <see cref="TimeProvider"/> for an instant, not for a duration.</summary>
internal static class ClockWait
{
    /// <summary>Returns once <paramref name="time"/> reads <paramref name="due"/> or later.</summary>
    /// <remarks>
    /// A timer runs for a duration from the clock's reading when the timer is made. Should the clock move
    /// on between the reading the duration came from and the making of the timer, the timer ends that
    /// much too late: with a <c>FakeTimeProvider</c> moved days at once by a test, a whole step late, and
    /// the test waits for a pass that comes only at its next move. So the clock is read again once the
    /// timer exists: a move before that is seen there, and a move after it fires the timer.
    /// </remarks>
    public static async Task UntilAsync(this TimeProvider time, DateTimeOffset due, CancellationToken ct)
    {
        var left = due - time.GetUtcNow();
        while (left > TimeSpan.Zero)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(left, time, timer.Token);
            if (time.GetUtcNow() < due)
            {
                await delay;
            }
            else
            {
                await timer.CancelAsync();
            }

            ct.ThrowIfCancellationRequested();
            left = due - time.GetUtcNow();
        }
    }
}
