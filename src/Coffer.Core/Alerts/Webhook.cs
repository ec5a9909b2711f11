namespace Coffer.Alerts;

/// <summary>
/// A webhook endpoint that receives alert events (docs/alerts.md). Its HMAC secret is stored only
/// sealed under the master key (<see cref="Crypto.MasterKey.Seal"/> with
/// <see cref="Crypto.SealPurpose.WebhookSecret"/> and the webhook id as context).
/// </summary>
/// <param name="Events">Event types or dotted prefixes it wants (<see cref="AlertEventTypes.Matches"/>); empty: every event.</param>
/// <param name="FromSequence">The audit chain head when it was created: it receives events of later records only.</param>
/// <param name="CreatedBy">The management token id that created it.</param>
public sealed record Webhook(
    string Id,
    string Url,
    IReadOnlyList<string> Events,
    byte[] SealedSecret,
    long FromSequence,
    DateTimeOffset CreatedAt,
    string? CreatedBy);

/// <summary>Where one delivery stands.</summary>
public enum AlertDeliveryState
{
    /// <summary>Not yet accepted by the endpoint; tried again at <see cref="AlertDelivery.NextAttemptAt"/>.</summary>
    Pending,

    /// <summary>The endpoint answered 2xx.</summary>
    Delivered,

    /// <summary>Given up: too many attempts, too old, or the endpoint was removed.</summary>
    Failed,
}

/// <summary>The stored text of <see cref="AlertDeliveryState"/>, fixed so renaming a member changes nothing on disk.</summary>
public static class AlertDeliveryStates
{
    public static string ToText(AlertDeliveryState state) => state switch
    {
        AlertDeliveryState.Pending => "pending",
        AlertDeliveryState.Delivered => "delivered",
        AlertDeliveryState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown delivery state."),
    };

    public static bool TryParse(string? text, out AlertDeliveryState state)
    {
        switch (text)
        {
            case "pending": state = AlertDeliveryState.Pending; return true;
            case "delivered": state = AlertDeliveryState.Delivered; return true;
            case "failed": state = AlertDeliveryState.Failed; return true;
            default: state = default; return false;
        }
    }
}

/// <summary>
/// One event for one webhook in the outbox: at most one per (webhook, audit record), so a record is
/// enqueued exactly once per endpoint however often the dispatcher reads it.
/// </summary>
/// <param name="Payload">The JSON body sent, fixed at enqueue time so every attempt sends the same bytes.</param>
/// <param name="Attempts">HTTP attempts made so far (kept across restarts).</param>
/// <param name="LastStatus">The HTTP status of the last attempt; null when it got no answer.</param>
/// <param name="LastError">Why the last attempt failed: a status or a transport error, never a secret.</param>
public sealed record AlertDelivery(
    string WebhookId,
    long AuditSequence,
    string EventType,
    string Payload,
    AlertDeliveryState State,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? LastAttemptAt,
    int? LastStatus,
    string? LastError,
    DateTimeOffset? DeliveredAt)
{
    /// <summary>The event id the receiver sees (<c>Coffer-Event-Id</c>); stable: derived from the audit record.</summary>
    public string EventId => AlertEventTypes.EventId(AuditSequence);
}

/// <summary>What one HTTP attempt of a delivery came to, as stored.</summary>
/// <param name="State">Delivered, still Pending (with <paramref name="NextAttemptAt"/>) or Failed.</param>
public sealed record AlertAttempt(
    string WebhookId,
    long AuditSequence,
    AlertDeliveryState State,
    DateTimeOffset At,
    int? Status,
    string? Error,
    DateTimeOffset? NextAttemptAt);
