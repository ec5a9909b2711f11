using System.Globalization;
using Coffer.Audit;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Audit.Sinks;

/// <summary>
/// Feeds one <see cref="IAuditSink"/> from the durable audit chain, behind a cursor kept in the
/// settings table: the last sequence the sink confirmed (issue 4: sinks off the hot path, never losing
/// records silently).
/// </summary>
/// <remarks>
/// <para>
/// The records are already durable in the database before any call is answered, so nothing on the
/// request path knows about sinks: this loop reads the chain after its cursor, delivers a batch and
/// only then moves the cursor. A sink that is down simply falls behind (the backlog is head − cursor)
/// and catches up when it returns, retried with exponential backoff.
/// </para>
/// <para>
/// At-least-once: a crash between delivery and saving the cursor sends that batch again; every
/// message carries its sequence number, so a receiver can drop repeats.
/// </para>
/// </remarks>
internal sealed partial class AuditForwarder : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(250);

    private readonly IAuditSink _sink;
    private readonly ICofferStorage _storage;
    private readonly Hosting.AuditSinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _cursorSetting;
    private volatile AuditSinkStatus _status;

    private AuditForwarder(IAuditSink sink, ICofferStorage storage, Hosting.AuditSinkOptions options, TimeProvider time, ILogger logger, long cursor)
    {
        _sink = sink;
        _storage = storage;
        _options = options;
        _time = time;
        _logger = logger;
        _cursorSetting = CursorSetting(sink.Name);
        _status = new AuditSinkStatus(sink.Name, sink.Target, cursor, null, null, null, 0);
        _loop = Task.Run(RunAsync);
    }

    /// <summary>What the sink has delivered and its last error (GET /api/v1/audit/sinks).</summary>
    public AuditSinkStatus Status => _status;

    /// <summary>The settings-table name of a sink's cursor.</summary>
    public static string CursorSetting(string sinkName) => $"audit.sink.{sinkName}.cursor";

    /// <summary>Loads the sink's cursor (0, i.e. from record 1, for a new sink) and starts the loop.</summary>
    public static async Task<AuditForwarder> StartAsync(IAuditSink sink, ICofferStorage storage, Hosting.AuditSinkOptions options, TimeProvider time, ILogger logger, CancellationToken ct = default)
    {
        var saved = await storage.System.GetSettingAsync(CursorSetting(sink.Name), ct);
        var cursor = saved is null ? 0 : long.Parse(saved, NumberStyles.None, CultureInfo.InvariantCulture);
        return new AuditForwarder(sink, storage, options, time, logger, cursor);
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await ForwardBatchAsync(ct))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(_options.PollMilliseconds), _time, ct);
                }

                if (failures > 0)
                {
                    Log.Recovered(_logger, _sink.Name, failures);
                    failures = 0;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Anything a sink or the store throws is retried; the cursor did not move, so nothing is skipped.
                failures++;
                _status = _status with { LastError = e.Message, LastErrorAt = _time.GetUtcNow(), ConsecutiveFailures = failures };
                var delay = RetryDelay(failures);
                Log.DeliveryFailed(_logger, _sink.Name, _sink.Target, failures, delay.TotalSeconds, e.Message);
                try
                {
                    await Task.Delay(delay, _time, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <returns>False when there was nothing to send (caught up).</returns>
    private async Task<bool> ForwardBatchAsync(CancellationToken ct)
    {
        var cursor = _status.Cursor;
        var head = await _storage.Audit.GetHeadAsync(ct);
        if (head.Sequence < cursor)
        {
            // The database is older than the cursor (restored from a backup): the records after the
            // old cursor are gone and new ones will reuse their numbers. Send those from the head on.
            Log.CursorAheadOfHead(_logger, _sink.Name, cursor, head.Sequence);
            await SaveCursorAsync(head.Sequence, ct);
            return true;
        }

        if (head.Sequence == cursor)
        {
            return false;
        }

        var page = await _storage.Audit.ReadChainAsync(cursor + 1, _options.BatchSize, ct);
        if (page.Records.Count == 0)
        {
            return false;
        }

        await _sink.DeliverAsync(page.Records, ct);
        await SaveCursorAsync(page.Records[^1].Sequence, ct);
        _status = _status with { LastDeliveredAt = _time.GetUtcNow(), ConsecutiveFailures = 0 };
        return true;
    }

    private async Task SaveCursorAsync(long cursor, CancellationToken ct)
    {
        await _storage.System.SetSettingAsync(_cursorSetting, cursor.ToString(CultureInfo.InvariantCulture), ct);
        _status = _status with { Cursor = cursor };
    }

    /// <summary>250 ms, 500 ms, 1 s, ... up to the configured maximum.</summary>
    private TimeSpan RetryDelay(int failures)
    {
        var max = TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds);
        var factor = Math.Pow(2, Math.Min(failures - 1, 20));
        return TimeSpan.FromMilliseconds(Math.Min(FirstRetryDelay.TotalMilliseconds * factor, max.TotalMilliseconds));
    }

    /// <summary>Stops the loop (a batch in flight is abandoned and sent again next time) and closes the sink.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        await _sink.DisposeAsync();
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5000, Level = LogLevel.Warning, Message = "Audit sink {Sink} ({Target}) failed {Failures} time(s) in a row, retrying in {DelaySeconds} s; its records wait in the database: {Reason}")]
        public static partial void DeliveryFailed(ILogger logger, string sink, string target, int failures, double delaySeconds, string reason);

        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Audit sink {Sink} delivers again after {Failures} failure(s)")]
        public static partial void Recovered(ILogger logger, string sink, int failures);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Audit sink {Sink}: its cursor {Cursor} is past the chain's head {Head} (was the database restored from a backup?); forwarding from the head on")]
        public static partial void CursorAheadOfHead(ILogger logger, string sink, long cursor, long head);
    }
}

/// <summary>One sink's progress. The backlog is the chain head minus <see cref="Cursor"/>.</summary>
/// <param name="Cursor">The last sequence the sink confirmed.</param>
internal sealed record AuditSinkStatus(
    string Name, string Target, long Cursor, DateTimeOffset? LastDeliveredAt, string? LastError, DateTimeOffset? LastErrorAt, int ConsecutiveFailures);
