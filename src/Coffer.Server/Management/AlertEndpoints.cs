using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Coffer.Alerts;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Server.Alerts;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/alerts: webhook endpoints and their deliveries (docs/alerts.md). A webhook's secret is made
/// by Coffer, shown once in the answer that creates it and otherwise kept only sealed under the master key.
/// </summary>
internal static class AlertEndpoints
{
    public const string CreateAction = "alert.webhook.create";
    public const string RemoveAction = "alert.webhook.remove";

    private const int MaxFilters = 50;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/alerts").WithTags("Alerts").RequirePermission(Permissions.AlertsWrite);
        group.MapPost("/webhooks", CreateAsync).WithAuditAction(CreateAction)
            .WithSummary("Add a webhook (https, or http to loopback) with an event filter; the answer holds its signing secret, shown once");
        group.MapGet("/webhooks", ListAsync).RequirePermission(Permissions.AlertsRead).WithSummary("List webhooks, without secrets");
        group.MapDelete("/webhooks/{webhookId}", RemoveAsync).WithAuditAction(RemoveAction)
            .WithSummary("Remove a webhook: its pending deliveries fail and its secret is erased");
        group.MapGet("/deliveries", DeliveriesAsync).RequirePermission(Permissions.AlertsRead)
            .WithSummary("Deliveries newest first, by state (pending, delivered, failed) and webhook");
    }

    private static async Task<Results<Created<CreatedWebhook>, ProblemHttpResult>> CreateAsync(
        CreateWebhookRequest request, HttpContext http, SealManager seal, WebhookAlerts alerts, TimeProvider time, CancellationToken ct)
    {
        if (WebhookUrl.Check(request.Url) is { } problem)
        {
            return Problems.BadRequest(problem);
        }

        var events = (request.Events ?? []).Select(e => e?.Trim() ?? string.Empty).Distinct(StringComparer.Ordinal).ToArray();
        if (events.Length > MaxFilters || events.Any(e => !AlertEventTypes.IsValidFilter(e)))
        {
            return Problems.BadRequest(
                $"events is a list of at most {MaxFilters} event types or prefixes such as \"key.rotate\", \"key.version\" or \"key.*\" (lower-case dotted names); leave it empty for every event.");
        }

        var id = CredentialGenerator.NewId("whk");
        var secret = CredentialGenerator.NewWebhookSecret();
        var actor = TokenAuthentication.CallerOf(http)?.Id;
        var now = time.GetUtcNow();
        var secretBytes = Encoding.UTF8.GetBytes(secret);
        try
        {
            var sealedSecret = await seal.SealSecretAsync(SealPurpose.WebhookSecret, id, secretBytes, ct);
            // Events of records after the chain head (this request's own record is already in it).
            await alerts.Dispatcher.AddWebhookAsync(head => new Webhook(id, request.Url!, events, sealedSecret, head, now, actor), ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBytes);
        }

        return TypedResults.Created($"/api/v1/alerts/webhooks/{id}", new CreatedWebhook(id, request.Url!, events, secret, now));
    }

    private static async Task<Ok<List<WebhookView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.Alerts.ListWebhooksAsync(ct)).Select(w => new WebhookView(w.Id, w.Url, [.. w.Events], w.CreatedAt, w.CreatedBy)).ToList());

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string webhookId, ICofferStorage storage, TimeProvider time, CancellationToken ct) =>
        await storage.Alerts.RemoveWebhookAsync(webhookId, time.GetUtcNow(), "webhook removed", ct)
            ? TypedResults.NoContent()
            : Problems.NotFound($"There is no webhook with id '{webhookId}'.");

    private static async Task<Results<Ok<AlertDeliveryListView>, ProblemHttpResult>> DeliveriesAsync(
        string? state, string? webhook, [Range(1, 1000)] int? limit, ICofferStorage storage, CancellationToken ct)
    {
        AlertDeliveryState? filter = null;
        if (state is not null)
        {
            if (!AlertDeliveryStates.TryParse(state, out var parsed))
            {
                return Problems.BadRequest("state is pending, delivered or failed.");
            }

            filter = parsed;
        }

        var deliveries = await storage.Alerts.ListDeliveriesAsync(filter, webhook, limit ?? 100, ct);
        return TypedResults.Ok(new AlertDeliveryListView([.. deliveries.Select(d => new AlertDeliveryView(
            d.WebhookId, d.EventId, d.EventType, d.AuditSequence, AlertDeliveryStates.ToText(d.State), d.Attempts, d.CreatedAt,
            d.NextAttemptAt, d.LastAttemptAt, d.LastStatus, d.LastError, d.DeliveredAt))]));
    }
}
