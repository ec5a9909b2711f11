using Coffer.Alerts;

namespace Coffer.Storage;

/// <summary>
/// Webhook endpoints and the alert outbox (docs/alerts.md). Thread-safe.
/// </summary>
public interface IAlertRepository
{
    Task AddWebhookAsync(Webhook webhook, CancellationToken ct = default);

    /// <summary>The live (not removed) webhooks, oldest first.</summary>
    Task<IReadOnlyList<Webhook>> ListWebhooksAsync(CancellationToken ct = default);

    /// <summary>A live webhook, or null.</summary>
    Task<Webhook?> GetWebhookAsync(string id, CancellationToken ct = default);

    /// <summary>
    /// Removes a webhook in one transaction: it stops matching events, its sealed secret is erased and
    /// its pending deliveries fail with <paramref name="reason"/>. False when there is no such live webhook.
    /// </summary>
    Task<bool> RemoveWebhookAsync(string id, DateTimeOffset at, string reason, CancellationToken ct = default);

    /// <summary>The last audit sequence whose events were enqueued; null before the first dispatch.</summary>
    Task<long?> GetDispatchCursorAsync(CancellationToken ct = default);

    /// <summary>
    /// Adds <paramref name="deliveries"/> (Pending) and moves the dispatch cursor to
    /// <paramref name="cursor"/> in one transaction. A delivery already in the outbox for the same webhook
    /// and record is left as it is, so reading the same records again enqueues nothing twice.
    /// </summary>
    Task EnqueueAsync(IReadOnlyList<AlertDelivery> deliveries, long cursor, CancellationToken ct = default);

    /// <summary>Pending deliveries due at <paramref name="now"/> (next attempt not after it), oldest first,
    /// except those of the webhooks in <paramref name="skipWebhooks"/> (resting after a failure).</summary>
    Task<IReadOnlyList<AlertDelivery>> ListDueAsync(DateTimeOffset now, int limit, IReadOnlyCollection<string>? skipWebhooks = null, CancellationToken ct = default);

    /// <summary>The earliest next attempt of any pending delivery; null when none is pending.</summary>
    Task<DateTimeOffset?> NextDueAsync(CancellationToken ct = default);

    /// <summary>Records one attempt: attempts + 1, its outcome and, while pending, the next attempt.
    /// Only a pending delivery changes (a removed webhook's delivery stays failed).</summary>
    Task RecordAttemptAsync(AlertAttempt attempt, CancellationToken ct = default);

    /// <summary>Deliveries newest first, filtered by state and webhook (null: any).</summary>
    Task<IReadOnlyList<AlertDelivery>> ListDeliveriesAsync(AlertDeliveryState? state, string? webhookId, int limit, CancellationToken ct = default);
}
