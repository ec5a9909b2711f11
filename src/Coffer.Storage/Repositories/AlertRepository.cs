using Coffer.Alerts;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class AlertRepository(CofferStorage storage) : IAlertRepository
{
    /// <summary>The settings row of the dispatcher's cursor.</summary>
    internal const string CursorSetting = "alerts.dispatch.cursor";

    private const int MaxPageSize = 1000;

    private const string WebhookColumns =
        "id AS Id, url AS Url, events AS Events, sealed_secret AS SealedSecret, from_seq AS FromSeq, created_at AS CreatedAt, created_by AS CreatedBy";

    private const string DeliveryColumns =
        "webhook_id AS WebhookId, audit_seq AS AuditSeq, event_type AS EventType, payload AS Payload, state AS State, attempts AS Attempts, " +
        "created_at AS CreatedAt, next_attempt_at AS NextAttemptAt, last_attempt_at AS LastAttemptAt, last_status AS LastStatus, " +
        "last_error AS LastError, delivered_at AS DeliveredAt";

    private const string InsertWebhook =
        "INSERT INTO alert_webhooks (id, url, events, sealed_secret, from_seq, created_at, created_by) " +
        "VALUES (@Id, @Url, @Events, @SealedSecret, @FromSequence, @CreatedAt, @CreatedBy)";

    private const string SelectWebhooks = "SELECT " + WebhookColumns + " FROM alert_webhooks WHERE removed_at IS NULL ORDER BY created_at, id";

    private const string SelectWebhook = "SELECT " + WebhookColumns + " FROM alert_webhooks WHERE removed_at IS NULL AND id = @Id";

    private const string RemoveWebhook =
        "UPDATE alert_webhooks SET removed_at = @At, sealed_secret = @Empty WHERE id = @Id AND removed_at IS NULL";

    private const string FailPendingOfWebhook =
        "UPDATE alert_deliveries SET state = 'failed', next_attempt_at = NULL, last_error = @Reason WHERE webhook_id = @Id AND state = 'pending'";

    private const string SelectSetting = "SELECT value FROM settings WHERE name = @Name";

    private const string UpsertSetting =
        "INSERT INTO settings (name, value) VALUES (@Name, @Value) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

    // Standard upsert (SQLite 3.24+, PostgreSQL 9.5+): a record read twice is enqueued once.
    private const string InsertDelivery =
        "INSERT INTO alert_deliveries (webhook_id, audit_seq, event_type, payload, state, attempts, created_at, next_attempt_at) " +
        "VALUES (@WebhookId, @AuditSequence, @EventType, @Payload, 'pending', 0, @CreatedAt, @NextAttemptAt) " +
        "ON CONFLICT (webhook_id, audit_seq) DO NOTHING";

    private readonly string _selectDue =
        "SELECT " + DeliveryColumns + " FROM alert_deliveries WHERE state = 'pending' AND next_attempt_at <= @Now " +
        "AND NOT (" + storage.Dialect.IsIn("webhook_id", "@Skip") + ") ORDER BY next_attempt_at, audit_seq LIMIT @Take";

    private const string SelectNextDue = "SELECT MIN(next_attempt_at) FROM alert_deliveries WHERE state = 'pending'";

    private const string UpdateAttempt =
        "UPDATE alert_deliveries SET attempts = attempts + 1, state = @State, last_attempt_at = @At, last_status = @Status, " +
        "last_error = @Error, next_attempt_at = @NextAttemptAt, delivered_at = @DeliveredAt " +
        "WHERE webhook_id = @WebhookId AND audit_seq = @AuditSequence AND state = 'pending'";

    private const string SelectDeliveries =
        "SELECT " + DeliveryColumns + " FROM alert_deliveries WHERE (@State IS NULL OR state = @State) " +
        "AND (@WebhookId IS NULL OR webhook_id = @WebhookId) ORDER BY audit_seq DESC, webhook_id LIMIT @Take";

    public async Task AddWebhookAsync(Webhook webhook, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        await using var connection = await storage.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertWebhook, new
            {
                webhook.Id,
                webhook.Url,
                Events = string.Join(',', webhook.Events),
                webhook.SealedSecret,
                webhook.FromSequence,
                CreatedAt = DbValues.Time(webhook.CreatedAt),
                webhook.CreatedBy,
            }, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out _))
        {
            throw new ConflictException($"webhook '{webhook.Id}' already exists", exception);
        }
    }

    public async Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<WebhookRow>(new CommandDefinition(SelectWebhooks, cancellationToken: ct));
        return [.. rows.Select(row => row.ToWebhook())];
    }

    public async Task<Webhook?> GetWebhookAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<WebhookRow>(new CommandDefinition(SelectWebhook, new { Id = id }, cancellationToken: ct));
        return row?.ToWebhook();
    }

    public async Task<bool> RemoveWebhookAsync(string id, DateTimeOffset at, string reason, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var removed = await connection.ExecuteAsync(new CommandDefinition(RemoveWebhook, new { Id = id, At = DbValues.Time(at), Empty = Array.Empty<byte>() }, transaction, cancellationToken: ct));
        if (removed == 0)
        {
            return false;
        }

        await connection.ExecuteAsync(new CommandDefinition(FailPendingOfWebhook, new { Id = id, Reason = reason }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return true;
    }

    public async Task<long?> GetDispatchCursorAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var text = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(SelectSetting, new { Name = CursorSetting }, cancellationToken: ct));
        return text is null ? null : long.Parse(text, global::System.Globalization.NumberStyles.None, global::System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task EnqueueAsync(IReadOnlyList<AlertDelivery> deliveries, long cursor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        foreach (var d in deliveries)
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertDelivery, new
            {
                d.WebhookId,
                d.AuditSequence,
                d.EventType,
                d.Payload,
                CreatedAt = DbValues.Time(d.CreatedAt),
                NextAttemptAt = DbValues.Time(d.NextAttemptAt ?? d.CreatedAt),
            }, transaction, cancellationToken: ct));
        }

        await connection.ExecuteAsync(new CommandDefinition(UpsertSetting, new
        {
            Name = CursorSetting,
            Value = cursor.ToString(global::System.Globalization.CultureInfo.InvariantCulture),
        }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<AlertDelivery>> ListDueAsync(DateTimeOffset now, int limit, IReadOnlyCollection<string>? skipWebhooks = null, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        // An empty list matches nothing on both engines (Dapper's expansion; = ANY of an empty array).
        var rows = await connection.QueryAsync<DeliveryRow>(new CommandDefinition(_selectDue,
            new { Now = DbValues.Time(now), Skip = (skipWebhooks ?? []).ToArray(), Take = Math.Clamp(limit, 1, MaxPageSize) }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToDelivery())];
    }

    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var text = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(SelectNextDue, cancellationToken: ct));
        return DbValues.ParseOptionalTime(text);
    }

    public async Task RecordAttemptAsync(AlertAttempt attempt, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(UpdateAttempt, new
        {
            attempt.WebhookId,
            attempt.AuditSequence,
            State = AlertDeliveryStates.ToText(attempt.State),
            At = DbValues.Time(attempt.At),
            attempt.Status,
            attempt.Error,
            NextAttemptAt = attempt.State == AlertDeliveryState.Pending ? DbValues.Time(attempt.NextAttemptAt ?? attempt.At) : null,
            DeliveredAt = attempt.State == AlertDeliveryState.Delivered ? DbValues.Time(attempt.At) : null,
        }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<AlertDelivery>> ListDeliveriesAsync(AlertDeliveryState? state, string? webhookId, int limit, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<DeliveryRow>(new CommandDefinition(SelectDeliveries, new
        {
            State = state is { } s ? AlertDeliveryStates.ToText(s) : null,
            WebhookId = webhookId,
            Take = Math.Clamp(limit, 1, MaxPageSize),
        }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToDelivery())];
    }
}

internal sealed class WebhookRow
{
    public string Id { get; init; } = "";
    public string Url { get; init; } = "";
    public string Events { get; init; } = "";
    public byte[] SealedSecret { get; init; } = [];
    public long FromSeq { get; init; }
    public string CreatedAt { get; init; } = "";
    public string? CreatedBy { get; init; }

    public Webhook ToWebhook() => new(Id, Url, Events.Split(',', StringSplitOptions.RemoveEmptyEntries), SealedSecret, FromSeq,
        DbValues.ParseTime(CreatedAt), CreatedBy);
}

internal sealed class DeliveryRow
{
    public string WebhookId { get; init; } = "";
    public long AuditSeq { get; init; }
    public string EventType { get; init; } = "";
    public string Payload { get; init; } = "";
    public string State { get; init; } = "";
    public long Attempts { get; init; }
    public string CreatedAt { get; init; } = "";
    public string? NextAttemptAt { get; init; }
    public string? LastAttemptAt { get; init; }
    public long? LastStatus { get; init; }
    public string? LastError { get; init; }
    public string? DeliveredAt { get; init; }

    public AlertDelivery ToDelivery() => new(
        WebhookId, AuditSeq, EventType, Payload,
        AlertDeliveryStates.TryParse(State, out var state) ? state : throw new InvalidDataException($"Unknown delivery state '{State}' in the database."),
        checked((int)Attempts), DbValues.ParseTime(CreatedAt), DbValues.ParseOptionalTime(NextAttemptAt), DbValues.ParseOptionalTime(LastAttemptAt),
        LastStatus is { } status ? checked((int)status) : null, LastError, DbValues.ParseOptionalTime(DeliveredAt));
}
