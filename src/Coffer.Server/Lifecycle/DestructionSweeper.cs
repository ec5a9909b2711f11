using Coffer.Server.Seal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// Runs <see cref="KeyDestructionService"/> on the server's <see cref="TimeProvider"/> every
/// <see cref="Interval"/>, destroying key material whose waiting period is over (docs/design.md,
/// "Lifecycle"), then completes the erasure of what was destroyed.
/// </summary>
/// <remarks>
/// <para>The destruction only overwrites the material in its row. Copies of the page that held it stay in
/// the database file and WAL until a truncating checkpoint, which waits for readers of older snapshots
/// while holding SQLite's write lock; so it runs after the destructions, outside the change lock, and
/// gives up after a moment rather than stall the audit writer, to be retried by the next sweep
/// (<see cref="Coffer.Storage.IKeyRepository.CompleteErasureAsync"/>; docs/architecture.md).</para>
/// <para>Only the cluster's leader runs this (docs/cluster.md).</para>
/// </remarks>
internal sealed partial class DestructionSweeper(SealManager seal, KeyDestructionService destructions, TimeProvider time, Cluster.Leadership leadership, ILogger<DestructionSweeper> logger) : BackgroundService
{
    /// <summary>How often the sweeper looks. Waiting periods are days; a minute late is nothing.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly List<(DateTimeOffset Instant, TaskCompletionSource Done)> _waiters = [];
    private DateTimeOffset? _lastSweep;

    /// <summary>Completes once a sweep that began at or after <paramref name="instant"/> (server time)
    /// has finished, done nothing (sealed) or failed. Lets tests drive the sweeper with a fake clock
    /// instead of sleeping.</summary>
    public Task SweptAsync(DateTimeOffset instant)
    {
        lock (_gate)
        {
            if (_lastSweep >= instant)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((instant, done));
            return done.Task;
        }
    }

    /// <summary>Only on the cluster's leader; a node that becomes the leader sweeps at once.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => leadership.RunWhileLeaderAsync(RunAsync, stoppingToken);

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the first sweep runs at once, but not inside StartAsync.
        await Task.Yield();
        DateTimeOffset? last = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // From the last sweep's start, not from now: a clock that jumped (a fake one in tests, or
                // a machine that slept) sweeps at once instead of waiting a further interval.
                if (last is { } previous)
                {
                    await time.UntilAsync(previous + Interval, stoppingToken);
                    await Coalesce.MissedTicks();
                }

                var now = time.GetUtcNow();
                last = now;
                try
                {
                    await SweepAsync(now, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Storage trouble: nothing was half-done that the next sweep will not redo.
                    Log.SweepFailed(logger, e.GetType().Name, e);
                }

                Swept(now);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over everything due at <paramref name="now"/>, then the erasure of what was
    /// destroyed, outside the change lock.</summary>
    internal async Task SweepAsync(DateTimeOffset now, CancellationToken ct)
    {
        await destructions.DestroyDueAsync(now, ct);

        // Also while sealed: it needs no key, and a destruction may be waiting for it since an earlier
        // sweep (a reader held an old snapshot) or an earlier process.
        if (!await seal.Storage.Keys.CompleteErasureAsync(ct))
        {
            Log.ErasureHeldBack(logger, Interval);
        }
    }

    private void Swept(DateTimeOffset at)
    {
        lock (_gate)
        {
            _lastSweep = at;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Instant <= at)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6505, Level = LogLevel.Error, Message = "A destruction sweep failed with {ExceptionType}; the next one retries")]
        public static partial void SweepFailed(ILogger logger, string exceptionType, Exception exception);

        [LoggerMessage(EventId = 6506, Level = LogLevel.Warning, Message = "Destroyed key material may still be in the database's files: a reader of an older snapshot or a busy writer kept the checkpoint from erasing it; the next sweep retries in {Interval}")]
        public static partial void ErasureHeldBack(ILogger logger, TimeSpan interval);
    }
}
