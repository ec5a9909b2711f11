using Coffer.Alerts;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Alerts;

/// <summary>
/// Turns audit records into outbox deliveries (README, "Alerts"). It reads the durable chain after its
/// cursor with the same <see cref="AuditChainReader"/> and <see cref="CursorLoop"/> as the audit sinks,
/// and writes each batch's deliveries together with the moved cursor in one transaction: a record is
/// enqueued exactly once per matching webhook, across crashes and restarts.
/// </summary>
internal sealed partial class AlertDispatcher
{
    private readonly IAlertRepository _alerts;
    private readonly AuditChainReader _reader;
    private readonly AlertOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _enqueued;
    private long _cursor;

    private AlertDispatcher(ICofferStorage storage, AlertOptions options, TimeProvider time, ILogger logger, Action enqueued, long cursor)
    {
        _alerts = storage.Alerts;
        _reader = new AuditChainReader(storage.Audit, options.BatchSize);
        _options = options;
        _time = time;
        _logger = logger;
        _enqueued = enqueued;
        _cursor = cursor;
    }

    /// <summary>The last audit record dispatched.</summary>
    public long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>Loads the cursor. A database that never dispatched starts at its current head: no
    /// webhook can exist before then, so nothing older can be an event for one.</summary>
    /// <param name="enqueued">Called after a batch put deliveries into the outbox (wakes the deliverer).</param>
    public static async Task<AlertDispatcher> CreateAsync(ICofferStorage storage, AlertOptions options, TimeProvider time, ILogger logger, Action enqueued, CancellationToken ct)
    {
        var cursor = await storage.Alerts.GetDispatchCursorAsync(ct);
        if (cursor is null)
        {
            // Saved at once: a webhook added later must see every record after this point, even if
            // the node stops before its first batch.
            cursor = (await storage.Audit.GetHeadAsync(ct)).Sequence;
            await storage.Alerts.EnqueueAsync([], cursor.Value, ct);
        }

        return new AlertDispatcher(storage, options, time, logger, enqueued, cursor.Value);
    }

    public Task RunAsync(CancellationToken ct) => CursorLoop.RunAsync(
        DispatchBatchAsync,
        () => TimeSpan.FromMilliseconds(_options.PollMilliseconds),
        failures => CursorLoop.Backoff(failures, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(30)),
        (failures, delay, e) => Log.DispatchFailed(_logger, failures, delay.TotalSeconds, e.GetType().Name, e.Message),
        failures => Log.Recovered(_logger, failures),
        _time,
        ct);

    /// <returns>False when caught up.</returns>
    internal async Task<bool> DispatchBatchAsync(CancellationToken ct)
    {
        var cursor = Cursor;
        var batch = await _reader.ReadAfterAsync(cursor, ct);
        if (batch.RewoundTo is { } head)
        {
            Log.CursorAheadOfHead(_logger, cursor, head);
            await _alerts.EnqueueAsync([], head, ct);
            Interlocked.Exchange(ref _cursor, head);
            return true;
        }

        if (batch.Records.Count == 0)
        {
            return false;
        }

        var webhooks = await _alerts.ListWebhooksAsync(ct);
        var now = _time.GetUtcNow();
        var deliveries = new List<AlertDelivery>();
        foreach (var record in batch.Records)
        {
            if (webhooks.Count == 0 || AlertEvent.From(record) is not { } alert)
            {
                continue;
            }

            string? payload = null;
            foreach (var webhook in webhooks)
            {
                if (record.Sequence > webhook.FromSequence && AlertEventTypes.Matches(webhook.Events, alert.Type))
                {
                    payload ??= alert.ToJson();
                    deliveries.Add(new AlertDelivery(webhook.Id, record.Sequence, alert.Type, payload, AlertDeliveryState.Pending,
                        0, now, now, null, null, null, null));
                }
            }
        }

        var last = batch.Records[^1].Sequence;
        await _alerts.EnqueueAsync(deliveries, last, ct);
        Interlocked.Exchange(ref _cursor, last);
        if (deliveries.Count > 0)
        {
            _enqueued();
        }

        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5100, Level = LogLevel.Warning, Message = "Alert dispatch failed {Failures} time(s) in a row, retrying in {DelaySeconds} s; audit records wait in the database ({ExceptionType}: {Reason})")]
        public static partial void DispatchFailed(ILogger logger, int failures, double delaySeconds, string exceptionType, string reason);

        [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Alert dispatch works again after {Failures} failure(s)")]
        public static partial void Recovered(ILogger logger, int failures);

        [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Alert dispatch: its cursor {Cursor} is past the audit chain's head {Head} (was the database restored from a backup?); dispatching from the head on")]
        public static partial void CursorAheadOfHead(ILogger logger, long cursor, long head);
    }
}
