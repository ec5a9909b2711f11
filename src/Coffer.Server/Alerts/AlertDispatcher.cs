using Coffer.Alerts;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Alerts;

/// <summary>
/// Turns audit records into outbox deliveries (docs/alerts.md). It reads the durable chain after its
/// cursor with the same <see cref="AuditChainReader"/> and <see cref="CursorLoop"/> as the audit sinks,
/// and writes each batch's deliveries together with the moved cursor in one transaction: a record is
/// enqueued exactly once per matching webhook, across crashes and restarts.
/// </summary>
/// <remarks>
/// A webhook receives the events of records after the chain head at its creation. Creation and each
/// batch take the same gate, and creation reads the stored head, so a batch either sees the new webhook
/// or ends at or before its head: no record falls between the two.
/// </remarks>
internal sealed partial class AlertDispatcher : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IAlertRepository _alerts;
    private readonly IAuditRepository _audit;
    private readonly AuditChainReader _reader;
    private readonly AlertOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action _enqueued;
    private long _cursor;
    private long _savedCursor;

    private AlertDispatcher(ICofferStorage storage, AlertOptions options, TimeProvider time, ILogger logger, Action enqueued, long cursor)
    {
        _alerts = storage.Alerts;
        _audit = storage.Audit;
        _reader = new AuditChainReader(storage.Audit, options.BatchSize);
        _options = options;
        _time = time;
        _logger = logger;
        _enqueued = enqueued;
        _cursor = cursor;
        _savedCursor = cursor;
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

    /// <summary>Dispatches for one term as the cluster's leader: from the stored cursor, which another
    /// leader may have moved since this node last dispatched.</summary>
    public Task RunAsync(CancellationToken ct) => CursorLoop.RunAsync(
        DispatchBatchAsync,
        () => TimeSpan.FromMilliseconds(_options.PollMilliseconds),
        TimeSpan.FromMilliseconds(250),
        TimeSpan.FromSeconds(30),
        (failures, delay, e) => Log.DispatchFailed(_logger, failures, delay.TotalSeconds, e.GetType().Name, e.Message),
        failures => Log.Recovered(_logger, failures),
        _time,
        ct,
        resume: ReloadCursorAsync);

    private async Task ReloadCursorAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (await _alerts.GetDispatchCursorAsync(ct) is { } stored)
            {
                Interlocked.Exchange(ref _cursor, stored);
                Interlocked.Exchange(ref _savedCursor, stored);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Adds the webhook <paramref name="create"/> makes from the current chain head (its
    /// <see cref="Webhook.FromSequence"/>), between two batches.</summary>
    public async Task<Webhook> AddWebhookAsync(Func<long, Webhook> create, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var webhook = create((await _audit.GetHeadAsync(ct)).Sequence);
            await _alerts.AddWebhookAsync(webhook, ct);
            return webhook;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <returns>False when caught up.</returns>
    internal async Task<bool> DispatchBatchAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await DispatchLockedAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> DispatchLockedAsync(CancellationToken ct)
    {
        var cursor = Cursor;
        var webhooks = await _alerts.ListWebhooksAsync(ct);
        if (webhooks.Count == 0)
        {
            // Nothing can match (a webhook added later starts after the head): skip to the head without
            // reading the records. Saved only now and then; an older saved cursor merely re-reads
            // records that are before every webhook.
            var top = (await _audit.GetHeadAsync(ct)).Sequence;
            if (top != cursor)
            {
                if (Math.Abs(top - Interlocked.Read(ref _savedCursor)) >= _options.BatchSize || top < cursor)
                {
                    await SaveCursorAsync(top, ct);
                }

                Interlocked.Exchange(ref _cursor, top);
            }

            return false;
        }

        var batch = await _reader.ReadAfterAsync(cursor, ct);
        if (batch.RewoundTo is { } head)
        {
            Log.CursorAheadOfHead(_logger, cursor, head);
            await SaveCursorAsync(head, ct);
            Interlocked.Exchange(ref _cursor, head);
            return true;
        }

        if (batch.Records.Count == 0)
        {
            return false;
        }

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
        Interlocked.Exchange(ref _savedCursor, last);
        Interlocked.Exchange(ref _cursor, last);
        if (deliveries.Count > 0)
        {
            _enqueued();
        }

        return true;
    }

    public void Dispose() => _gate.Dispose();

    private async Task SaveCursorAsync(long cursor, CancellationToken ct)
    {
        await _alerts.EnqueueAsync([], cursor, ct);
        Interlocked.Exchange(ref _savedCursor, cursor);
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
