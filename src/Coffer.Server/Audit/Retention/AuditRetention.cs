using System.Globalization;
using Coffer.Audit;
using Coffer.Server.Cluster;
using Coffer.Server.Hosting;
using Coffer.Server.Lifecycle;
using Coffer.Server.Metrics;
using Coffer.Server.Seal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Coffer.Server.Audit.Retention;

/// <summary>
/// Scheduled retention (docs/audit-retention.md): at start and every <c>Audit.Retention.IntervalMinutes</c>
/// of the server's <see cref="TimeProvider"/>, the leader moves the records older than
/// <c>Audit.Retention.MaxAgeDays</c> into a new archive through <see cref="AuditArchiving"/>, the path of
/// <c>coffer audit archive</c>. Each run that has work is recorded (<see cref="Action"/>, requested, then
/// ok or error); a failed run is an alert (<c>audit.retention.failed</c>), a metric and a log line, and the
/// next run retries it.
/// </summary>
/// <remarks>
/// A run first finishes a removal that an earlier one left halfway (the archive's file and MACed row were
/// stored, some of its records not yet removed): until then those records are both archived and live, a
/// duplicate that verify and the readers ignore, never a gap. Sealed, a run does nothing: an archive's
/// MAC needs the audit key.
/// </remarks>
internal sealed partial class AuditRetention(
    AuditArchiving archiving, AuditLog audit, SealManager seal, CofferOptions options, TimeProvider time, Leadership leadership, CofferMetrics metrics,
    ILogger<AuditRetention> logger) : BackgroundService
{
    /// <summary>The audit action of a scheduled archive, by the system.</summary>
    public const string Action = AuditActions.AuditRetention;

    private readonly RetentionMetrics _metrics = new(metrics);
    private readonly Lock _gate = new();
    private readonly List<(DateTimeOffset AtLeast, TaskCompletionSource Done)> _waiters = [];
    private DateTimeOffset? _lastRun;

    private AuditRetentionOptions Settings => options.Audit.Retention;

    /// <summary>Completes once a run that began at or after <paramref name="atLeast"/> (server time) has
    /// finished, whatever it did (tests move a fake clock and wait here instead of sleeping).</summary>
    public Task WaitForRunAsync(DateTimeOffset atLeast)
    {
        lock (_gate)
        {
            if (_lastRun >= atLeast)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((atLeast, done));
            return done.Task;
        }
    }

    /// <summary>Only on the cluster's leader (docs/cluster.md); a node that becomes the leader runs at once.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Settings.Enabled ? leadership.RunWhileLeaderAsync(RunAsync, stoppingToken) : Task.CompletedTask;

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the first run is at once, but not inside StartAsync.
        await Task.Yield();
        DateTimeOffset? last = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // From the last run's start, not from now: a clock that jumped runs at once.
                if (last is { } previous)
                {
                    await time.UntilAsync(previous + Settings.Interval, stoppingToken);
                    await Coalesce.MissedTicks();
                }

                var now = time.GetUtcNow();
                last = now;
                await RunOnceAsync(now, stoppingToken);
                Ran(now);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One run at <paramref name="now"/>: archives what is older than the age, if anything.</summary>
    internal async Task RunOnceAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (seal.IsSealed)
        {
            return;
        }

        var cutoff = now - Settings.MaxAge;
        var record = new AuditEvent
        {
            Action = Action,
            ActorKind = AuditActorKinds.System,
            Details = string.Create(CultureInfo.InvariantCulture, $"records older than {cutoff.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} (Audit.Retention.MaxAgeDays {Settings.MaxAgeDays})"),
        };
        try
        {
            await audit.FinishRemovalAsync(ct);
            if (!await archiving.HasDueAsync(cutoff, ct))
            {
                _metrics.Succeeded(now, 0);
                return;
            }

            // Fail closed: no archive without the record that it is about to be made.
            await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Failed(e);
            return;
        }

        try
        {
            var archive = await archiving.ArchiveAsync(throughSequence: null, before: cutoff, ct);
            var records = archive.ThroughSequence - archive.FirstSequence + 1;
            Log.Archived(logger, archive.FirstSequence, archive.ThroughSequence, archive.FileName);
            _metrics.Succeeded(now, records);
            await OutcomeAsync(record with
            {
                Details = record.Details + string.Create(CultureInfo.InvariantCulture,
                    $": records {archive.FirstSequence} to {archive.ThroughSequence} archived in {archive.FileName} (sha256 {Convert.ToHexStringLower(archive.FileSha256)})"),
            }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Failed(e);
            await OutcomeAsync(record with { Outcome = AuditOutcome.Error, ErrorName = ErrorName(e), Reason = Reason(e) }, ct);
        }
    }

    private void Failed(Exception e)
    {
        _metrics.Failed();
        Log.RunFailed(logger, e.GetType().Name, Settings.Interval, e);
    }

    private async Task OutcomeAsync(AuditEvent record, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(record, ct);
        }
        catch (AuditUnavailableException e)
        {
            // The run's work is done or safely undone; its requested record says it was about to run.
            Log.OutcomeNotAudited(logger, e);
        }
    }

    private static string ErrorName(Exception e) => e switch
    {
        AuditArchiveRefusedException => "Refused",
        SealedException => "Sealed",
        IOException or UnauthorizedAccessException => "Archive directory unusable",
        _ => "Internal error",
    };

    // Coffer's own refusals are written for operators and carry record numbers only; anything else
    // (a file system or database message may name paths or values) by its type.
    private static string Reason(Exception e) => e is AuditArchiveRefusedException ? e.Message : e.GetType().Name;

    private void Ran(DateTimeOffset at)
    {
        lock (_gate)
        {
            _lastRun = at;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].AtLeast <= at)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>What Prometheus sees of retention on this node (only the leader runs it).</summary>
    private sealed class RetentionMetrics
    {
        private readonly Counter.Child _ok;
        private readonly Counter.Child _failed;
        private readonly Counter _archived;
        private readonly Gauge _failing;
        private readonly Gauge _lastSuccess;

        public RetentionMetrics(CofferMetrics metrics)
        {
            var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
            var runs = factory.CreateCounter("coffer_audit_retention_runs_total", "Scheduled audit retention runs on this node, by outcome.", "outcome");
            _ok = runs.WithLabels("ok");
            _failed = runs.WithLabels("error");
            _archived = factory.CreateCounter("coffer_audit_retention_archived_records_total", "Audit records moved into archives by scheduled retention on this node.");
            _failing = factory.CreateGauge("coffer_audit_retention_failing", "1 while this node's last scheduled audit retention run failed (alert on it).");
            _lastSuccess = factory.CreateGauge("coffer_audit_retention_last_success_timestamp_seconds", "Unix time of this node's last scheduled audit retention run that succeeded.");
        }

        public void Succeeded(DateTimeOffset at, long records)
        {
            _ok.Inc();
            _archived.Inc(records);
            _failing.Set(0);
            _lastSuccess.Set(at.ToUnixTimeMilliseconds() / 1000.0);
        }

        public void Failed()
        {
            _failed.Inc();
            _failing.Set(1);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Audit retention archived records {First} to {Through} into {FileName}")]
        public static partial void Archived(ILogger logger, long first, long through, string fileName);

        [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "Audit retention failed ({ExceptionType}); no record was lost, and the next run in {Interval} retries")]
        public static partial void RunFailed(ILogger logger, string exceptionType, TimeSpan interval, Exception exception);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "The audit log could not record the outcome of an audit retention run")]
        public static partial void OutcomeNotAudited(ILogger logger, Exception exception);
    }
}
