using System.Net;
using System.Net.Http.Json;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Approvals;

/// <summary>
/// Guarded calls as a requester sees them: without a covering policy they run as before;
/// with one they are held as an approval request (202) that shows what, who, why and until when.
/// Requests expire on the clock, can be cancelled by their requester only, and nobody votes on their
/// own request or without membership of the approver group.
/// </summary>
public sealed class ApprovalRequestTests
{
    [Fact]
    public async Task A_guarded_call_without_a_covering_policy_runs_directly()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("other", ["killswitch.engage"], 2, "ops");
        var key = await ApprovalApi.NewKeyAsync(node.Admin);

        using var response = await node.Admin.PostJsonAsync($"/api/v1/keys/{key}/schedule-destruction", new { waitingPeriodDays = 7 });

        Assert.Equal("pending-destruction", (string?)(await response.JsonAsync(HttpStatusCode.OK))["status"]);
        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/approvals")).AsArray());
    }

    [Fact]
    public async Task A_covered_call_is_held_and_answered_202_with_the_request()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        await using var node = await DevServer.StartAsync(time: clock);
        await node.Admin.PutQuorumAsync("destroy", ["key.destroy"], 2, "custodians", lifetimeHours: 48);
        var key = await ApprovalApi.NewKeyAsync(node.Admin);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/keys/{key}/schedule-destruction")
        {
            Content = JsonContent.Create(new { waitingPeriodDays = 9 }),
        };
        request.Headers.Add("Coffer-Reason", "ticket SEC-42: retired workload");
        using var response = await node.Admin.SendAsync(request);

        var held = await response.JsonAsync(HttpStatusCode.Accepted);
        var id = (string)held["id"]!;
        Assert.StartsWith("apr_", id, StringComparison.Ordinal);
        Assert.Equal($"/api/v1/approvals/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("key.destroy", (string?)held["operation"]);
        Assert.Equal("pending", (string?)held["state"]);
        Assert.Equal("destroy", (string?)held["policy"]);
        Assert.Equal(2, (int)held["requiredApprovals"]!);
        Assert.Equal("custodians", (string?)held["approverGroup"]);
        Assert.Equal(0, (int)held["approvals"]!);
        Assert.Equal("token", (string?)held["requester"]!["kind"]);
        Assert.Equal("ticket SEC-42: retired workload", (string?)held["reason"]);
        Assert.Equal("POST", (string?)held["method"]);
        Assert.Equal($"/api/v1/keys/{key}/schedule-destruction", (string?)held["path"]);
        Assert.Equal(9, (int)held["body"]!["waitingPeriodDays"]!);
        Assert.Equal(clock.GetUtcNow().AddHours(48), (DateTimeOffset)held["expiresAt"]!);
        Assert.Empty(held["votes"]!.AsArray());

        // Nothing ran; the request is listed and shown; asking was an audit record.
        Assert.Equal("enabled", (string?)(await node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
        Assert.Contains((await node.Admin.GetJsonAsync("/api/v1/approvals?state=pending")).AsArray(), a => (string?)a!["id"] == id);
        Assert.Equal(id, (string?)(await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}"))["id"]);
        var records = (await ApprovalApi.RecordsAsync(node.Admin, "approval.request")).AsArray();
        Assert.Contains(records, r => (string?)r!["outcome"] == "ok" && (string?)r["keyId"] == key
            && ((string?)r["details"])!.Contains(id, StringComparison.Ordinal) && (string?)r["reason"] == "ticket SEC-42: retired workload");
        Assert.Empty((await ApprovalApi.RecordsAsync(node.Admin, "key.schedule-destruction")).AsArray());

        // Destroying one version is the same operation.
        using var version = await node.Admin.PostAsync($"/api/v1/keys/{key}/versions/1/schedule-destruction", null);
        Assert.Equal("key.destroy", (string?)(await version.JsonAsync(HttpStatusCode.Accepted))["operation"]);
    }

    [Fact]
    public async Task Nobody_votes_on_their_own_request_nor_without_membership_of_the_approver_group()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("disable", ["key.disable"], 1, "custodians");
        var key = await ApprovalApi.NewKeyAsync(node.Admin);
        using var held = await node.Admin.PostAsync($"/api/v1/keys/{key}/disable", null);
        var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;

        using (var own = await node.Admin.PostJsonAsync($"/api/v1/approvals/{id}/approve", new { comment = "me" }))
        {
            Assert.Contains("own request", (string?)(await own.ProblemAsync(HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        }

        using var approver = await ApprovalApi.ClientOfRoleAsync(node, "approver");
        using (var outsider = await approver.PostAsync($"/api/v1/approvals/{id}/approve", null))
        {
            Assert.Contains("'custodians'", (string?)(await outsider.ProblemAsync(HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        }

        using var officer = await ApprovalApi.ClientOfRoleAsync(node, "key-officer");
        using (var noPermission = await officer.PostAsync($"/api/v1/approvals/{id}/approve", null))
        {
            Assert.Contains("approvals.vote", (string?)(await noPermission.ProblemAsync(HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        }

        var request = await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}");
        Assert.Equal("pending", (string?)request["state"]);
        Assert.Empty(request["votes"]!.AsArray());
        Assert.Equal("enabled", (string?)(await node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
    }

    [Fact]
    public async Task A_request_expires_on_the_clock_and_then_takes_no_votes()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        await using var node = await DevServer.StartAsync(time: clock);
        await node.Admin.PutQuorumAsync("engage", ["killswitch.engage"], 1, "ops", lifetimeHours: 2);
        using var held = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "drill" });
        var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;

        clock.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        Assert.Equal("pending", (string?)(await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}"))["state"]);
        clock.Advance(TimeSpan.FromSeconds(1));

        var expired = await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}");
        Assert.Equal("expired", (string?)expired["state"]);
        using var operatorClient = await ApprovalApi.ClientOfRoleAsync(node, "approver");
        using (var late = await operatorClient.PostAsync($"/api/v1/approvals/{id}/approve", null))
        {
            Assert.Contains("expired", (string?)(await late.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        }

        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
        Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "approval.expire")).AsArray(),
            r => (string?)r!["actorKind"] == "system" && ((string?)r["details"])!.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unanswered_request_is_expired_by_the_scheduler_without_anyone_reading_it()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
        await using var node = await DevServer.StartAsync(time: clock);
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));
        await node.Admin.PutQuorumAsync("engage", ["killswitch.engage"], 1, "ops", lifetimeHours: 1);
        using var held = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "drill" });
        var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;

        clock.Advance(TimeSpan.FromMinutes(59));
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty((await ApprovalApi.RecordsAsync(node.Admin, "approval.expire")).AsArray());

        clock.Advance(TimeSpan.FromMinutes(1));
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));

        // Read from the audit log only: the record was written by the tick, not by a read of the request.
        var record = Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "approval.expire")).AsArray())!;
        Assert.Equal("system", (string?)record["actorKind"]);
        Assert.Contains(id, (string?)record["details"], StringComparison.Ordinal);
        Assert.Equal("expired", (string?)(await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}"))["state"]);
        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
    }

    [Fact]
    public async Task Only_the_requester_cancels_a_pending_request()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("revoke", ["credential.revoke"], 1, "ops");
        var store = (string)(await node.Admin.CreateKeyStoreAsync())["id"]!;
        var credential = (string)(await node.Admin.AddCredentialAsync(store))["id"]!;
        using var held = await node.Admin.DeleteAsync($"/api/v1/keystores/{store}/credentials/{credential}");
        var id = (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;

        using var other = await ApprovalApi.ClientOfRoleAsync(node, "operator");
        using (var refused = await other.PostAsync($"/api/v1/approvals/{id}/cancel", null))
        {
            await refused.ProblemAsync(HttpStatusCode.Forbidden);
        }

        using (var cancelled = await node.Admin.PostAsync($"/api/v1/approvals/{id}/cancel", null))
        {
            Assert.Equal("cancelled", (string?)(await cancelled.JsonAsync(HttpStatusCode.OK))["state"]);
        }

        using (var again = await node.Admin.PostAsync($"/api/v1/approvals/{id}/cancel", null))
        {
            await again.ProblemAsync(HttpStatusCode.Conflict);
        }

        var live = (await node.Admin.GetJsonAsync($"/api/v1/keystores/{store}/credentials")).AsArray();
        Assert.Contains(live, c => (string?)c!["id"] == credential && c["revokedAt"] is null);
    }
}
