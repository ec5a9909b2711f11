namespace Coffer.Server.Lifecycle;

/// <summary>
/// Scheduled work runs off the thread that fired its timer. A timer's continuation otherwise runs
/// inline on that thread, and a clock that jumps ahead by days (a machine resumed from sleep, or a
/// test's fake clock, which fires a periodic timer once per missed period) would run one full round of
/// work per missed minute before the jump completes. Off that thread, the missed periods coalesce into
/// one round that sees the clock after the jump.
/// </summary>
internal static class Coalesce
{
    /// <summary>Moves the caller to the thread pool; always true, to chain after a timer's wait.</summary>
    public static async ValueTask<bool> MissedTicks()
    {
        await Task.Yield();
        return true;
    }
}
