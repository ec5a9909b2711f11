using System.Globalization;
using Coffer.Audit;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Audit.Sinks;

/// <summary>
/// Feeds one <see cref="IAuditSink"/> from the durable audit chain, behind a cursor kept in the
/// settings table: the last sequence the sink confirmed (sinks off the hot path, never losing
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
    private readonly AuditChainReader _reader;
    private volatile AuditSinkStatus _status;

    private AuditForwarder(IAuditSink sink, ICofferStorage storage, Hosting.AuditSinkOptions options, Cluster.Leadership leadership, TimeProvider time, ILogger logger, long cursor)
    {
        _sink = sink;
        _storage = storage;
        _options = options;
        _time = time;
        _logger = logger;
        _cursorSetting = CursorSetting(sink.Name);
        _reader = new AuditChainReader(storage.Audit, options.BatchSize);
        _status = new AuditSinkStatus(sink.Name, sink.Target, cursor, null, null, null, 0);
        _loop = Task.Run(() => leadership.RunWhileLeaderAsync(RunAsync, _stop.Token));
    }

    /// <summary>What the sink has delivered and its last error (GET /api/v1/audit/sinks).</summary>
    public AuditSinkStatus Status => _status;

    /// <summary>The settings-table name of a sink's cursor.</summary>
    public static string CursorSetting(string sinkName) => $"audit.sink.{sinkName}.cursor";

    /// <summary>Loads the sink's cursor (0, i.e. from record 1, for a new sink) and starts the loop.</summary>
    public static async Task<AuditForwarder> StartAsync(IAuditSink sink, ICofferStorage storage, Hosting.AuditSinkOptions options, Cluster.Leadership leadership, TimeProvider time, ILogger logger, CancellationToken ct = default) =>
        new(sink, storage, options, leadership, time, logger, await LoadCursorAsync(storage, sink.Name, ct));

    /// <summary>The sink's stored cursor, as the leader last saved it (0 for a new sink): in a cluster, this
    /// node's <see cref="Status"/> is only as fresh as its own last term.</summary>
    public static async Task<long> LoadCursorAsync(ICofferStorage storage, string sinkName, CancellationToken ct)
    {
        var saved = await storage.System.GetSettingAsync(CursorSetting(sinkName), ct);
        return saved is null ? 0 : long.Parse(saved, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Forwards for one term as the cluster's leader (docs/cluster.md): from the stored cursor,
    /// which another leader may have moved since this node last forwarded.</summary>
    private Task RunAsync(CancellationToken ct) => CursorLoop.RunAsync(
        ForwardBatchAsync,
        () => TimeSpan.FromMilliseconds(_options.PollMilliseconds),
        FirstRetryDelay,
        TimeSpan.FromSeconds(_options.MaxRetryDelaySeconds),
        (failures, delay, e) =>
        {
            // Anything a sink or the store throws is retried; the cursor did not move, so nothing is skipped.
            _status = _status with { LastError = e.Message, LastErrorAt = _time.GetUtcNow(), ConsecutiveFailures = failures };
            Log.DeliveryFailed(_logger, _sink.Name, _sink.Target, failures, delay.TotalSeconds, e.Message);
        },
        failures => Log.Recovered(_logger, _sink.Name, failures),
        _time,
        ct,
        resume: async c => _status = _status with { Cursor = await LoadCursorAsync(_storage, _sink.Name, c) });

    /// <returns>False when there was nothing to send (caught up).</returns>
    private async Task<bool> ForwardBatchAsync(CancellationToken ct)
    {
        var cursor = _status.Cursor;
        var batch = await _reader.ReadAfterAsync(cursor, ct);
        if (batch.RewoundTo is { } head)
        {
            // Restored from a backup: send the records from the head on.
            Log.CursorAheadOfHead(_logger, _sink.Name, cursor, head);
            await SaveCursorAsync(head, ct);
            return true;
        }

        if (batch.Records.Count == 0)
        {
            return false;
        }

        await _sink.DeliverAsync(batch.Records, ct);
        await SaveCursorAsync(batch.Records[^1].Sequence, ct);
        _status = _status with { LastDeliveredAt = _time.GetUtcNow(), ConsecutiveFailures = 0 };
        return true;
    }

    private async Task SaveCursorAsync(long cursor, CancellationToken ct)
    {
        await _storage.System.SetSettingAsync(_cursorSetting, cursor.ToString(CultureInfo.InvariantCulture), ct);
        _status = _status with { Cursor = cursor };
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
