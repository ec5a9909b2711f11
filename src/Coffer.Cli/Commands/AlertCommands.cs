using System.CommandLine;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Cli.Output;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer alert webhook add|list|remove</c> and <c>coffer alert deliveries</c>: webhook alerts of key
/// lifecycle events (docs/alerts.md).
/// </summary>
internal static class AlertCommands
{
    public static void AddTo(RootCommand root, CliEnvironment env) => root.Subcommands.Add(new Command("alert", "Webhook alerts of key lifecycle events.")
    {
        new Command("webhook", "Endpoints that receive signed JSON events.") { Add(env), List(env), Remove(env) },
        Deliveries(env),
    });

    private static Command Add(CliEnvironment env)
    {
        var url = new Argument<string>("url") { Description = "https URL (plain http only to a loopback address, for development)" };
        var events = new Option<string[]>("--event")
        {
            Description = "An event type or prefix to receive (key.rotate, key.version, key.*); repeat for several. None: every event.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("add", "Add a webhook; prints its signing secret once.") { url, events };
        command.SetClientAction(env, async (call, ct) =>
        {
            var created = await call.Api.PostAsync(ManagementClient.Route("alerts", "webhooks"),
                new CreateWebhookRequest(call.Parse.GetValue(url), call.Parse.GetValue(events) ?? []),
                ManagementJson.Default.CreateWebhookRequest, ManagementJson.Default.CreatedWebhook, ct);
            const string Warning = "WARNING: the secret is shown only now. The receiver checks each delivery's Coffer-Signature header with it (docs/alerts.md).";
            if (call.Json)
            {
                Json.Write(call.Out, created.Json);
                await call.Error.WriteLineAsync(Warning);
                return 0;
            }

            var w = created.Value;
            Table.Properties(call.Out,
            [
                ("Webhook ID", w.Id),
                ("URL", w.Url),
                ("Events", EventList(w.Events)),
                ("Secret", w.Secret),
                ("Created", Table.Time(w.CreatedAt)),
            ]);
            await call.Out.WriteLineAsync();
            await call.Out.WriteLineAsync(Warning);
            return 0;
        });
        return command;
    }

    private static Command List(CliEnvironment env)
    {
        var command = new Command("list", "List webhooks (never their secrets).");
        command.SetClientAction(env, async (call, ct) =>
        {
            var webhooks = await call.Api.GetAsync(ManagementClient.Route("alerts", "webhooks"), ManagementJson.Default.ListWebhookView, ct);
            call.Print(webhooks, (output, list) => Table.Write(output, ["ID", "URL", "EVENTS", "CREATED"],
                list.Select(w => (IReadOnlyList<string>)[w.Id, w.Url, EventList(w.Events), Table.Time(w.CreatedAt)])));
            return 0;
        });
        return command;
    }

    private static Command Remove(CliEnvironment env)
    {
        var id = new Argument<string>("webhook") { Description = "Webhook id or URL (see `coffer alert webhook list`)" };
        var command = new Command("remove", "Remove a webhook: it gets no more events and its pending deliveries fail.") { id };
        command.SetClientAction(env, async (call, ct) =>
        {
            var webhookId = await Lookup.WebhookIdAsync(call.Api, call.Parse.GetValue(id)!, ct);
            await call.Api.DeleteAsync(ManagementClient.Route("alerts", "webhooks", webhookId), ct);
            if (!call.Json)
            {
                await call.Out.WriteLineAsync($"Removed webhook {webhookId}.");
            }

            return 0;
        });
        return command;
    }

    private static Command Deliveries(CliEnvironment env)
    {
        var state = new Option<string?>("--state") { Description = "Only deliveries in this state" };
        state.AcceptOnlyFromAmong("pending", "delivered", "failed");
        var webhook = new Option<string?>("--webhook") { Description = "Only deliveries to this webhook (id or URL)" };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1..1000, default 100), newest first", CustomParser = WholeNumber.Int32 };
        var command = new Command("deliveries", "Show alert deliveries newest first: state, attempts, next attempt and last error.") { state, webhook, limit };
        command.SetClientAction(env, async (call, ct) =>
        {
            var query = new List<string>();
            Add(query, "state", call.Parse.GetValue(state));
            Add(query, "webhook", call.Parse.GetValue(webhook) is { } w ? await Lookup.WebhookIdAsync(call.Api, w, ct) : null);
            Add(query, "limit", call.Parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture));
            var path = ManagementClient.Route("alerts", "deliveries") + (query.Count > 0 ? "?" + string.Join('&', query) : "");
            var result = await call.Api.GetAsync(path, ManagementJson.Default.AlertDeliveryListView, ct);
            if (call.Json)
            {
                Json.Write(call.Out, result.Json);
            }
            else if (result.Value.Deliveries.Count == 0)
            {
                await call.Out.WriteLineAsync("No deliveries.");
            }
            else
            {
                Table.Write(call.Out, ["EVENT", "TYPE", "WEBHOOK", "STATE", "ATTEMPTS", "LAST ATTEMPT", "NEXT ATTEMPT", "LAST ERROR"],
                    result.Value.Deliveries.Select(d => (IReadOnlyList<string>)
                    [
                        d.EventId, d.Type, d.WebhookId, d.State, d.Attempts.ToString(CultureInfo.InvariantCulture),
                        Table.Time(d.LastAttemptAt), Table.Time(d.NextAttemptAt), d.LastError ?? "-",
                    ]));
            }

            return 0;
        });
        return command;
    }

    private static void Add(List<string> query, string name, string? value)
    {
        if (value is not null)
        {
            query.Add(name + "=" + Uri.EscapeDataString(value));
        }
    }

    private static string EventList(IReadOnlyList<string> events) => events.Count == 0 ? "(all)" : string.Join(", ", events);
}
