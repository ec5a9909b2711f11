using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// The lifecycle scheduler: once at start and then every <see cref="Interval"/> of the server's
/// <see cref="TimeProvider"/>, it sweeps expired and interrupted approval requests, sends expiry
/// warnings, and has <see cref="ScheduledChangeService"/> make the rotations, activations and expiries
/// that are due. Sealed, it does nothing; a failed tick is logged and the next one tries again.
/// </summary>
internal sealed partial class RotationScheduler(
    SealManager seal, ScheduledChangeService changes, AuditLog audit, TimeProvider time, Hosting.CofferOptions options, Approvals.ApprovalRuns approvalRuns, Cluster.ClusterMembership cluster,
    ILogger<RotationScheduler> logger) : BackgroundService
{
    /// <summary>How often the scheduler looks for due work.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly Lock _ticks = new();
    private readonly List<(DateTimeOffset AtLeast, TaskCompletionSource Done)> _waiters = [];
    private DateTimeOffset _lastTick = DateTimeOffset.MinValue;

    /// <summary>Completes once a tick that started at or after <paramref name="atLeast"/> has finished
    /// (tests advance the fake clock past <see cref="Interval"/> and wait here instead of sleeping).</summary>
    public Task WaitForTickAsync(DateTimeOffset atLeast, CancellationToken ct = default)
    {
        lock (_ticks)
        {
            if (_lastTick >= atLeast)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((atLeast, done));
            return done.Task.WaitAsync(ct);
        }
    }

    /// <summary>Only on the cluster's leader (docs/cluster.md); a node that becomes the leader ticks at once.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => cluster.Leadership.RunWhileLeaderAsync(RunAsync, stoppingToken);

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            // The first tick at start runs whatever came due while Coffer was down, once.
            do
            {
                await RunTickAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken) && await Coalesce.MissedTicks());
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunTickAsync(CancellationToken ct)
    {
        var started = time.GetUtcNow();
        try
        {
            await TickAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.TickFailed(logger, e.GetType().Name, e);
        }
        finally
        {
            Ticked(started);
        }
    }

    /// <summary>One pass: approval requests past their expiry or left approved by a run that will not
    /// finish, expiry warnings, the rotations due now, then the activations and expiries due now.</summary>
    internal async Task TickAsync(CancellationToken ct = default)
    {
        if (seal.IsSealed)
        {
            return;
        }

        var now = time.GetUtcNow();
        var storage = seal.Storage;
        await Approvals.ApprovalExpiry.SweepAsync(audit, storage, now, sourceIp: null, ct);
        await Approvals.ApprovalInterruptions.SweepAsync(audit, storage, approvalRuns, cluster.Runner, options.Cluster.Liveness, now, ct);
        try
        {
            await ExpiryWarnings.WarnAsync(storage, audit, options.Alerts.ExpiryWarningDays, now, ct);
        }
        catch (AuditUnavailableException e)
        {
            Log.WarningsNotAudited(logger, ExpiryWarnings.Action, e);
        }

        await changes.ApplyDueAsync(now, ct);
    }

    private void Ticked(DateTimeOffset started)
    {
        lock (_ticks)
        {
            if (started > _lastTick)
            {
                _lastTick = started;
            }

            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].AtLeast <= started)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6105, Level = LogLevel.Error, Message = "The audit log could not record the expiry warnings ({Action}); none was sent, they are retried next tick")]
        public static partial void WarningsNotAudited(ILogger logger, string action, Exception exception);

        [LoggerMessage(EventId = 6104, Level = LogLevel.Error, Message = "A lifecycle scheduler tick failed ({ExceptionType}); the next tick tries again")]
        public static partial void TickFailed(ILogger logger, string exceptionType, Exception exception);
    }
}
