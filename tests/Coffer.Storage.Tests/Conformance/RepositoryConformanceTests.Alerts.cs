using Coffer.Alerts;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Webhooks and the alert outbox: exactly one delivery per webhook and record, the
/// dispatch cursor moved with them, attempts and due times that survive a reopen.</summary>
public abstract partial class RepositoryConformanceTests
{
    private Webhook NewWebhook(params string[] events) =>
        new(NextId("whk"), "https://hooks.example/" + NextId("p"), events, [1, 2, 3], 7, T0, "tok_admin");

    private static AlertDelivery Pending(string webhookId, long seq, DateTimeOffset? due = null) =>
        new(webhookId, seq, "key.rotate", $"{{\"id\":\"evt_{seq}\"}}", AlertDeliveryState.Pending, 0, T0, due ?? T0, null, null, null, null);

    [Fact]
    public async Task A_webhook_round_trips_and_a_removed_one_is_no_longer_listed()
    {
        var kept = NewWebhook("key.rotate", "key.version");
        var removed = NewWebhook();
        await Alerts.AddWebhookAsync(kept);
        await Alerts.AddWebhookAsync(removed);

        Assert.True(await Alerts.RemoveWebhookAsync(removed.Id, T0.AddHours(1), "webhook removed"));
        Assert.False(await Alerts.RemoveWebhookAsync(removed.Id, T0.AddHours(2), "webhook removed"));

        var read = Assert.Single(await Alerts.ListWebhooksAsync());
        Assert.Equal(kept.Id, read.Id);
        Assert.Equal(kept.Url, read.Url);
        Assert.Equal(["key.rotate", "key.version"], read.Events);
        Assert.Equal(kept.SealedSecret, read.SealedSecret);
        Assert.Equal(7, read.FromSequence);
        Assert.Equal(T0, read.CreatedAt);
        Assert.Equal("tok_admin", read.CreatedBy);
        Assert.Null(await Alerts.GetWebhookAsync(removed.Id));
        Assert.Equal(kept.Url, (await Alerts.GetWebhookAsync(kept.Id))?.Url);
    }

    [Fact]
    public async Task Enqueueing_moves_the_cursor_and_a_record_enqueued_again_keeps_its_one_delivery()
    {
        var webhook = NewWebhook();
        await Alerts.AddWebhookAsync(webhook);
        Assert.Null(await Alerts.GetDispatchCursorAsync());

        await Alerts.EnqueueAsync([Pending(webhook.Id, 10), Pending(webhook.Id, 11)], 11);
        await Alerts.RecordAttemptAsync(new AlertAttempt(webhook.Id, 10, AlertDeliveryState.Delivered, T0.AddSeconds(1), 200, null, null));
        // As after a crash between the outbox write and anything else: the same records read again.
        await Alerts.EnqueueAsync([Pending(webhook.Id, 10), Pending(webhook.Id, 11)], 11);
        var reopened = await OpenAsync();

        Assert.Equal(11, await reopened.Alerts.GetDispatchCursorAsync());
        var deliveries = await reopened.Alerts.ListDeliveriesAsync(null, webhook.Id, 100);
        Assert.Equal([11L, 10L], deliveries.Select(d => d.AuditSequence));
        Assert.Equal(AlertDeliveryState.Delivered, deliveries[1].State);
        Assert.Equal(1, deliveries[1].Attempts);
        Assert.Equal(T0.AddSeconds(1), deliveries[1].DeliveredAt);
        Assert.Equal("evt_10", deliveries[1].EventId);

        await Alerts.EnqueueAsync([], 12);
        Assert.Equal(12, await Alerts.GetDispatchCursorAsync());
    }

    [Fact]
    public async Task Due_deliveries_are_the_pending_ones_whose_time_has_come_and_an_attempt_sets_the_next()
    {
        var webhook = NewWebhook();
        await Alerts.AddWebhookAsync(webhook);
        await Alerts.EnqueueAsync([Pending(webhook.Id, 1, T0), Pending(webhook.Id, 2, T0.AddMinutes(5)), Pending(webhook.Id, 3, T0)], 3);
        await Alerts.RecordAttemptAsync(new AlertAttempt(webhook.Id, 3, AlertDeliveryState.Failed, T0, 500, "HTTP 500", null));

        Assert.Equal([1L], (await Alerts.ListDueAsync(T0, 10)).Select(d => d.AuditSequence));
        Assert.Equal([1L, 2L], (await Alerts.ListDueAsync(T0.AddMinutes(5), 10)).Select(d => d.AuditSequence));
        Assert.Equal(T0, await Alerts.NextDueAsync());

        await Alerts.RecordAttemptAsync(new AlertAttempt(webhook.Id, 1, AlertDeliveryState.Pending, T0.AddSeconds(1), null, "ConnectionError: refused", T0.AddMinutes(10)));
        var retried = (await Alerts.ListDeliveriesAsync(AlertDeliveryState.Pending, null, 10)).Single(d => d.AuditSequence == 1);
        Assert.Equal(1, retried.Attempts);
        Assert.Equal(T0.AddMinutes(10), retried.NextAttemptAt);
        Assert.Equal(T0.AddSeconds(1), retried.LastAttemptAt);
        Assert.Null(retried.LastStatus);
        Assert.Equal("ConnectionError: refused", retried.LastError);
        Assert.Equal(T0.AddMinutes(5), await Alerts.NextDueAsync());
        Assert.Equal(3L, Assert.Single(await Alerts.ListDeliveriesAsync(AlertDeliveryState.Failed, null, 10)).AuditSequence);
    }

    [Fact]
    public async Task Removing_a_webhook_fails_its_pending_deliveries_and_later_attempts_change_nothing()
    {
        var gone = NewWebhook();
        var other = NewWebhook();
        await Alerts.AddWebhookAsync(gone);
        await Alerts.AddWebhookAsync(other);
        await Alerts.EnqueueAsync([Pending(gone.Id, 1), Pending(gone.Id, 2), Pending(other.Id, 2)], 2);
        await Alerts.RecordAttemptAsync(new AlertAttempt(gone.Id, 1, AlertDeliveryState.Delivered, T0, 204, null, null));

        Assert.True(await Alerts.RemoveWebhookAsync(gone.Id, T0.AddHours(1), "webhook removed"));
        // An attempt that raced the removal.
        await Alerts.RecordAttemptAsync(new AlertAttempt(gone.Id, 2, AlertDeliveryState.Delivered, T0.AddHours(2), 200, null, null));

        var deliveries = await Alerts.ListDeliveriesAsync(null, gone.Id, 10);
        Assert.Equal([AlertDeliveryState.Failed, AlertDeliveryState.Delivered], deliveries.Select(d => d.State));
        Assert.Equal("webhook removed", deliveries[0].LastError);
        Assert.Equal(0, deliveries[0].Attempts);
        Assert.Equal(AlertDeliveryState.Pending, Assert.Single(await Alerts.ListDeliveriesAsync(null, other.Id, 10)).State);
        Assert.Equal([other.Id], (await Alerts.ListDueAsync(T0, 10)).Select(d => d.WebhookId));
        Assert.Empty(await Alerts.ListDueAsync(T0, 10, [other.Id, "whk-none"]));
    }
}
