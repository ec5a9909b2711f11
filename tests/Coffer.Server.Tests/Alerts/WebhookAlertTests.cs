using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Approvals;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Alerts;

/// <summary>
/// Webhook alerts end to end: a real receiver on loopback, a real node and database.
/// Retry delays are configured in milliseconds, so retries happen quickly without any test sleeping.
/// The tests share one node (<see cref="FastAlertsNode"/>) and run one at a time; after each, every
/// webhook is removed, so the next test's webhooks are the only ones and no delivery to a receiver that
/// has stopped keeps being retried. Tests that restart the node, set a quorum policy (node-wide) or
/// another attempt limit have a node of their own.
/// </summary>
public sealed class WebhookAlertTests(WebhookAlertTests.FastAlertsNode shared) : IClassFixture<WebhookAlertTests.FastAlertsNode>, IAsyncLifetime
{
    /// <summary>The node the tests share, with <see cref="Fast"/> alert settings.</summary>
    public sealed class FastAlertsNode : SharedNode
    {
        protected override void Configure(CofferOptions options) => Fast()(options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var webhook in (await shared.Node.Admin.GetJsonAsync("/api/v1/alerts/webhooks")).AsArray())
        {
            using var remove = await shared.Node.Admin.DeleteAsync($"/api/v1/alerts/webhooks/{(string)webhook!["id"]!}");
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }
    }

    private static Action<CofferOptions> Fast(int maxAttempts = 1000) => options => options.Alerts = new AlertOptions
    {
        PollMilliseconds = 20,
        FirstRetryDelayMilliseconds = 10,
        MaxRetryDelaySeconds = 1,
        TimeoutSeconds = 5,
        MaxAttempts = maxAttempts,
    };

    private static async Task<string> NewKeyAsync(HttpClient admin)
    {
        var store = (string)(await admin.CreateKeyStoreAsync())["id"]!;
        return (string)(await admin.CreateKeyAsync(store, new { name = ManagementApi.Unique("alert") }))["id"]!;
    }

    private static async Task RotateAsync(HttpClient admin, string keyId, HttpStatusCode expected = HttpStatusCode.OK, object? body = null)
    {
        using var response = await admin.PostJsonAsync($"/api/v1/keys/{keyId}/rotate", body ?? new { });
        Assert.Equal(expected, response.StatusCode);
    }

    private static string[] Types(JsonArray deliveries) => [.. deliveries.Select(d => (string)d!["type"]!).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task A_rotation_reaches_the_receiver_signed_with_the_secret_shown_at_creation()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = shared.Node;
        var webhook = await node.Admin.AddWebhookAsync(receiver.Url);
        var secret = (string)webhook["secret"]!;
        var keyId = await NewKeyAsync(node.Admin);
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        await RotateAsync(node.Admin, keyId);
        await node.Admin.WaitForDeliveriesAsync((string)webhook["id"]!, d => AlertApi.All(d, "delivered", 2));

        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var rotation = Assert.Single(receiver.Accepted, r => r.EventType == "key.rotate");
        Assert.True(AlertApi.Verifies(rotation.Signature, rotation.Body, secret, out var t), rotation.Signature);
        Assert.InRange(t, before - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.False(AlertApi.Verifies(rotation.Signature, rotation.Body + " ", secret, out _), "a changed body must not verify");
        Assert.False(AlertApi.Verifies(rotation.Signature, rotation.Body, secret + "x", out _), "another secret must not verify");
        Assert.Equal("application/json", rotation.ContentType?.Split(';')[0]);

        var body = JsonNode.Parse(rotation.Body)!;
        Assert.Equal(rotation.EventId, (string)body["id"]!);
        Assert.Equal("evt_" + (long)body["auditSeq"]!, rotation.EventId);
        Assert.Equal("key.rotate", (string)body["type"]!);
        Assert.Equal(keyId, (string)body["keyId"]!);
        Assert.Equal(2, (int)body["version"]!);
        Assert.Equal("ok", (string)body["outcome"]!);
        Assert.Equal("token", (string)body["actor"]!["kind"]!);
        Assert.False(string.IsNullOrEmpty((string?)body["keyStoreId"]));
        Assert.True(DateTimeOffset.TryParse((string)body["time"]!, out _));

        // The audit record behind the event is the one the id names, with the same action and key.
        var record = (await node.Admin.GetJsonAsync($"/api/v1/audit/records?keyId={keyId}&action=key.rotate&outcome=ok"))["records"]!.AsArray().Single()!;
        Assert.Equal((long)record["sequence"]!, (long)body["auditSeq"]!);

        // The key's creation is an event too; "requested" records (written before each change) are not.
        Assert.Contains(receiver.Accepted, r => r.EventType == "key.create");
        Assert.All(receiver.Received, r => Assert.Equal("ok", (string)JsonNode.Parse(r.Body)!["outcome"]!));
    }

    [Fact]
    public async Task Compromising_the_current_version_records_and_sends_the_rotation_it_makes()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = shared.Node;
        var keyId = await NewKeyAsync(node.Admin);
        var webhook = await node.Admin.AddWebhookAsync(receiver.Url, "key.rotate");

        using var compromise = await node.Admin.PostJsonAsync($"/api/v1/keys/{keyId}/versions/1/compromise", new { });
        Assert.Equal(HttpStatusCode.OK, compromise.StatusCode);
        await node.Admin.WaitForDeliveriesAsync((string)webhook["id"]!, d => AlertApi.All(d, "delivered", 1));

        var record = (await node.Admin.GetJsonAsync($"/api/v1/audit/records?keyId={keyId}&action=key.rotate&outcome=ok"))["records"]!.AsArray().Single()!;
        Assert.Equal("token", (string)record["actorKind"]!);
        Assert.False(string.IsNullOrEmpty((string?)record["actorId"]));
        Assert.Equal(keyId, (string)record["keyId"]!);
        Assert.Equal(2, (int)record["keyVersion"]!);
        var rotation = Assert.Single(receiver.Accepted);
        var body = JsonNode.Parse(rotation.Body)!;
        Assert.Equal("key.rotate", (string)body["type"]!);
        Assert.Equal(keyId, (string)body["keyId"]!);
        Assert.Equal(2, (int)body["version"]!);
        Assert.Equal((long)record["sequence"]!, (long)body["auditSeq"]!);
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_the_event_on_the_third_attempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = shared.Node;
        var keyId = await NewKeyAsync(node.Admin);
        var webhook = await node.Admin.AddWebhookAsync(receiver.Url, "key.rotate");
        var secret = (string)webhook["secret"]!;
        receiver.Plan(500, 500);

        await RotateAsync(node.Admin, keyId);
        var delivery = (await node.Admin.WaitForDeliveriesAsync((string)webhook["id"]!, d => AlertApi.All(d, "delivered", 1)))[0]!;

        Assert.Equal(3, (int)delivery["attempts"]!);
        Assert.Equal(200, (int)delivery["lastStatus"]!);
        Assert.Null(delivery["lastError"]);
        Assert.Equal([500, 500, 200], receiver.Received.Select(r => r.Status));
        // The same event each time, each attempt signed afresh and verifiable.
        Assert.Single(receiver.Received.Select(r => r.Body).Distinct());
        Assert.Single(receiver.Received.Select(r => r.EventId).Distinct());
        Assert.All(receiver.Received, r => Assert.True(AlertApi.Verifies(r.Signature, r.Body, secret, out _)));
    }

    [Fact]
    public async Task After_a_restart_nothing_is_delivered_twice_and_pending_deliveries_carry_on()
    {
        // A node of its own: it restarts.
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = await DevServer.StartAsync(Fast());
        try
        {
            // Key events only: the restart's cluster.leader events are not what this test counts.
            var webhook = await node.Admin.AddWebhookAsync(receiver.Url, "key");
            var id = (string)webhook["id"]!;
            var keyId = await NewKeyAsync(node.Admin);
            await node.Admin.WaitForDeliveriesAsync(id, d => AlertApi.All(d, "delivered", 1));

            // The receiver goes down; the rotation's delivery is tried and stays pending.
            receiver.DefaultStatus = 503;
            await RotateAsync(node.Admin, keyId);
            await node.Admin.WaitForDeliveriesAsync(id, d => d.Any(x => (string?)x!["type"] == "key.rotate" && (int)x["attempts"]! >= 1));
            var failedBefore = receiver.Received.Count(r => r.Status == 503);

            node = await node.RestartAsync();
            receiver.DefaultStatus = 200;
            await RotateAsync(node.Admin, keyId);
            var deliveries = await node.Admin.WaitForDeliveriesAsync(id, d => AlertApi.All(d, "delivered", 3));

            Assert.Equal(["key.create", "key.rotate", "key.rotate"], Types(deliveries));
            Assert.True(failedBefore >= 1);
            // Each event reached the receiver exactly once, including the one created before the restart.
            var accepted = receiver.Accepted.Select(r => r.EventId).ToList();
            Assert.Equal(3, accepted.Count);
            Assert.Equal(accepted.Count, accepted.Distinct().Count());
            Assert.Equal(deliveries.Select(d => (string)d!["eventId"]!).Order(), accepted.Order());
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_webhook_gets_the_events_of_changes_after_it_was_added_only_also_after_a_restart()
    {
        // A node of its own: it restarts.
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = await DevServer.StartAsync(Fast());
        try
        {
            var keyId = await NewKeyAsync(node.Admin);
            await RotateAsync(node.Admin, keyId);
            // With no webhook the dispatcher skips records without saving its cursor each time, so the
            // next node reads these records again: they are before the webhook and still no events for it.
            node = await node.RestartAsync();
            var id = (string)(await node.Admin.AddWebhookAsync(receiver.Url, "key"))["id"]!; // not the next restart's cluster.leader events
            await RotateAsync(node.Admin, keyId);
            await node.Admin.WaitForDeliveriesAsync(id, d => AlertApi.All(d, "delivered", 1));

            node = await node.RestartAsync();
            await RotateAsync(node.Admin, keyId);
            var deliveries = await node.Admin.WaitForDeliveriesAsync(id, d => AlertApi.All(d, "delivered", 2));

            Assert.Equal(["key.rotate", "key.rotate"], Types(deliveries));
            Assert.Equal([4, 3], receiver.Accepted.Select(r => (int)JsonNode.Parse(r.Body)!["version"]!).Reverse());
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Each_webhook_gets_only_the_event_types_of_its_filter()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = shared.Node;
        var rotations = (string)(await node.Admin.AddWebhookAsync(receiver.Url, "key.rotate"))["id"]!;
        var versions = (string)(await node.Admin.AddWebhookAsync(receiver.Url, "key.version"))["id"]!;
        var everything = (string)(await node.Admin.AddWebhookAsync(receiver.Url))["id"]!;
        var keyId = await NewKeyAsync(node.Admin);

        await RotateAsync(node.Admin, keyId);
        // A rotation that fails (another came first) is an event of its own: key.rotate.failed.
        await RotateAsync(node.Admin, keyId, HttpStatusCode.Conflict, new { expectedCurrentVersion = 1 });
        using (var schedule = await node.Admin.PostJsonAsync($"/api/v1/keys/{keyId}/versions/1/schedule-destruction", new { waitingPeriodDays = 7 }))
        {
            Assert.Equal(HttpStatusCode.OK, schedule.StatusCode);
        }

        // Records are dispatched in order, so once the last event reached every webhook that wants it,
        // every earlier one is in the outbox too.
        await node.Admin.WaitForDeliveriesAsync(everything, d => AlertApi.All(d, "delivered", 4));
        await node.Admin.WaitForDeliveriesAsync(versions, d => AlertApi.All(d, "delivered", 1));
        Assert.Equal(["key.create", "key.rotate", "key.rotate.failed", "key.version.schedule-destruction"], Types(await node.Admin.DeliveriesAsync("webhook=" + everything)));
        Assert.Equal(["key.rotate", "key.rotate.failed"], Types(await node.Admin.DeliveriesAsync("webhook=" + rotations)));
        Assert.Equal(["key.version.schedule-destruction"], Types(await node.Admin.DeliveriesAsync("webhook=" + versions)));

        var failed = JsonNode.Parse(receiver.Received.First(r => r.EventType == "key.rotate.failed").Body)!;
        Assert.Equal("error", (string)failed["outcome"]!);
        Assert.Equal("Conflict", (string)failed["error"]!);
    }

    [Fact]
    public async Task Approvers_hear_of_a_held_call_and_everyone_of_its_votes_and_run_with_the_request_and_operation()
    {
        // A node of its own: its quorum policy holds every key destruction on the node.
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var node = await DevServer.StartAsync(Fast());
        var approvals = (string)(await node.Admin.AddWebhookAsync(receiver.Url, "approval"))["id"]!;
        await node.Admin.PutQuorumAsync("guard", ["key.destroy"], 1, "custodians");
        var keyId = await NewKeyAsync(node.Admin);
        var (requester, requesterId) = await ApprovalApi.UserAsync(node, "key-officer", "custodians");
        var (approver, _) = await ApprovalApi.UserAsync(node, "approver", "custodians");
        using (requester)
        using (approver)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/keys/{keyId}/schedule-destruction")
            {
                Content = System.Net.Http.Json.JsonContent.Create(new { waitingPeriodDays = 7 }),
            };
            request.Headers.Add("Coffer-Reason", "retire SEC-42");
            using var held = await requester.SendAsync(request);
            var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;
            using var vote = await approver.PostJsonAsync($"/api/v1/approvals/{id}/approve", new { comment = "checked" });
            Assert.Equal(HttpStatusCode.OK, vote.StatusCode);

            await node.Admin.WaitForDeliveriesAsync(approvals, d => AlertApi.All(d, "delivered", 3));
            // The executed call's own key.schedule-destruction is a key event: not for this webhook.
            Assert.Equal(["approval.approve", "approval.execute", "approval.request"], Types(await node.Admin.DeliveriesAsync("webhook=" + approvals)));
            var asked = JsonNode.Parse(receiver.Accepted.Single(r => r.EventType == "approval.request").Body)!;
            Assert.Equal(id, (string?)asked["approvalId"]);
            Assert.Equal("key.destroy", (string?)asked["operation"]);
            Assert.Equal(keyId, (string?)asked["keyId"]);
            Assert.Equal("retire SEC-42", (string?)asked["reason"]);
            Assert.Equal(requesterId, (string?)asked["actor"]!["id"]);
            var ran = JsonNode.Parse(receiver.Accepted.Single(r => r.EventType == "approval.execute").Body)!;
            Assert.Equal((id, "ok"), ((string?)ran["approvalId"], (string?)ran["outcome"]));
        }
    }

    [Fact]
    public async Task An_event_filter_that_is_no_event_type_is_refused_and_https_and_loopback_urls_are_accepted()
    {
        var node = shared.Node;

        using var bad = await node.Admin.PostJsonAsync("/api/v1/alerts/webhooks", new { url = "https://alerts.example.com/coffer", events = new[] { "Key.Rotate" } });
        await bad.ProblemAsync(HttpStatusCode.BadRequest);
        var https = await node.Admin.AddWebhookAsync("https://alerts.example.com/coffer", "key.version", "key.rotate.*");
        var loopback = await node.Admin.AddWebhookAsync("http://localhost:9/hook");

        var list = (await node.Admin.GetJsonAsync("/api/v1/alerts/webhooks")).AsArray();
        Assert.Equal([(string)https["id"]!, (string)loopback["id"]!], list.Select(w => (string)w!["id"]!));
        Assert.Equal(["key.version", "key.rotate.*"], ManagementApi.Strings(list[0]!["events"]));
        Assert.Empty(list[1]!["events"]!.AsArray());
    }

    [Fact]
    public async Task The_secret_never_appears_in_logs_audit_records_lists_or_the_database_file()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = shared.Node;
        receiver.Plan(500);
        var webhook = await node.Admin.AddWebhookAsync(receiver.Url);
        var secret = (string)webhook["secret"]!;
        var keyId = await NewKeyAsync(node.Admin);
        await RotateAsync(node.Admin, keyId);
        await node.Admin.WaitForDeliveriesAsync((string)webhook["id"]!, d => AlertApi.All(d, "delivered", 2));

        var list = await node.Admin.GetStringAsync("/api/v1/alerts/webhooks");
        var deliveries = await node.Admin.GetStringAsync("/api/v1/alerts/deliveries");
        var audit = await node.Admin.GetStringAsync("/api/v1/audit/export?format=jsonl");
        Assert.Contains((string)webhook["id"]!, list, StringComparison.Ordinal);
        Assert.Contains("alert.webhook.create", audit, StringComparison.Ordinal);
        Assert.Contains("failed attempt 1", node.Logs.All, StringComparison.Ordinal);
        foreach (var text in new[] { list, deliveries, audit, node.Logs.All, string.Concat(receiver.Received.Select(r => r.Body + r.Signature)) })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret["whsec_".Length..], text, StringComparison.Ordinal);
        }

        // At rest it is sealed: neither the database nor its write-ahead log holds it in clear.
        foreach (var file in Directory.GetFiles(node.DataDirectory, "coffer.db*"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
            Assert.DoesNotContain(secret["whsec_".Length..], await reader.ReadToEndAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_delivery_is_failed_after_the_configured_attempts_and_listed_as_failed()
    {
        // A node of its own: another attempt limit.
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var node = await DevServer.StartAsync(Fast(maxAttempts: 3));
        receiver.DefaultStatus = 500;
        var webhook = (string)(await node.Admin.AddWebhookAsync(receiver.Url))["id"]!;
        var keyId = await NewKeyAsync(node.Admin);

        var failed = (await node.Admin.WaitForDeliveriesAsync(webhook, d => AlertApi.All(d, "failed", 1)))[0]!;
        Assert.Equal(3, (int)failed["attempts"]!);
        Assert.Equal(500, (int)failed["lastStatus"]!);
        Assert.Equal("HTTP 500", (string)failed["lastError"]!);
        Assert.Null(failed["nextAttemptAt"]);
        Assert.Equal(3, receiver.Received.Count);
        Assert.Single(await node.Admin.DeliveriesAsync("state=failed&webhook=" + webhook));
        Assert.Empty(await node.Admin.DeliveriesAsync("state=pending&webhook=" + webhook));

        using var badState = await node.Admin.GetAsync("/api/v1/alerts/deliveries?state=lost");
        await badState.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Removing_a_webhook_fails_its_pending_deliveries_and_stops_its_events()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var node = shared.Node;
        receiver.DefaultStatus = 503;
        var webhook = (string)(await node.Admin.AddWebhookAsync(receiver.Url))["id"]!;
        var keyId = await NewKeyAsync(node.Admin);
        await node.Admin.WaitForDeliveriesAsync(webhook, d => d.Count == 1 && (int)d[0]!["attempts"]! >= 1);

        using (var remove = await node.Admin.DeleteAsync($"/api/v1/alerts/webhooks/{webhook}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        }

        await RotateAsync(node.Admin, keyId);
        var records = (await node.Admin.GetJsonAsync("/api/v1/audit/records?action=alert.webhook.remove"))["records"]!.AsArray();
        var removed = (await node.Admin.DeliveriesAsync("webhook=" + webhook)).Single()!;
        Assert.Equal("failed", (string)removed["state"]!);
        Assert.Equal("webhook removed", (string)removed["lastError"]!);
        Assert.Equal("key.create", (string)removed["type"]!);
        Assert.Contains(records, r => (string?)r!["outcome"] == "ok" && ((string?)r["details"])!.Contains(webhook, StringComparison.Ordinal));
        Assert.DoesNotContain(webhook, await node.Admin.GetStringAsync("/api/v1/alerts/webhooks"), StringComparison.Ordinal);
        using var again = await node.Admin.DeleteAsync($"/api/v1/alerts/webhooks/{webhook}");
        await again.ProblemAsync(HttpStatusCode.NotFound);
    }
}
