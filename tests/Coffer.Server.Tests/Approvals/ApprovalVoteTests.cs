using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Approvals;

/// <summary>
/// Votes by users of the approver group: the M-th approval runs the held call once, as its
/// requester; a denial ends it; nobody votes twice; a target changed since the request voids it; two
/// final votes at once still run it exactly once; no secret reaches a request, a view or an audit record.
/// </summary>
public sealed class ApprovalVoteTests
{
    private sealed record Team(DevServer Node, HttpClient Requester, string RequesterId, HttpClient[] Approvers, string[] ApproverIds) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Requester.Dispose();
            foreach (var approver in Approvers)
            {
                approver.Dispose();
            }

            await Node.DisposeAsync();
        }
    }

    /// <summary>A node with a requester (a key officer, unless named) and three approvers in group "custodians".</summary>
    private static async Task<Team> TeamAsync(string operation, int required, string requesterRole = "key-officer")
    {
        var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("guard", [operation], required, "custodians");
        var (requester, requesterId) = await ApprovalApi.UserAsync(node, requesterRole, "custodians");
        var approvers = new List<(HttpClient Client, string Id)>();
        for (var i = 0; i < 3; i++)
        {
            approvers.Add(await ApprovalApi.UserAsync(node, "approver", "custodians"));
        }

        return new Team(node, requester, requesterId, [.. approvers.Select(a => a.Client)], [.. approvers.Select(a => a.Id)]);
    }

    private static async Task<JsonNode> VoteAsync(HttpClient voter, string id, string verb, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await voter.PostJsonAsync($"/api/v1/approvals/{id}/{verb}", new { comment = verb + " from a test" });
        return expected == HttpStatusCode.OK ? await response.JsonAsync(expected) : await response.ProblemAsync(expected);
    }

    /// <summary>The ids of the pending requests the caller may vote on now (?mayVote=true).</summary>
    private static async Task<List<string>> InboxAsync(HttpClient caller) =>
        [.. (await caller.GetJsonAsync("/api/v1/approvals?mayVote=true")).AsArray().Select(r => (string)r!["id"]!)];

    private static async Task<string> HoldAsync(HttpClient requester, string path, object? body = null)
    {
        using var response = body is null ? await requester.PostAsync(path, null) : await requester.PostJsonAsync(path, body);
        return (string)(await response.JsonAsync(HttpStatusCode.Accepted))["id"]!;
    }

    [Fact]
    public async Task Two_of_three_one_approval_does_nothing_the_second_schedules_the_destruction_once_as_the_requester()
    {
        await using var team = await TeamAsync("key.destroy", 2);
        var key = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var id = await HoldAsync(team.Requester, $"/api/v1/keys/{key}/schedule-destruction", new { waitingPeriodDays = 8 });

        var first = await VoteAsync(team.Approvers[0], id, "approve");
        Assert.Equal("pending", (string?)first["state"]);
        Assert.Equal(1, (int)first["approvals"]!);
        Assert.Equal("enabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);

        var second = await VoteAsync(team.Approvers[1], id, "approve");
        Assert.Equal("executed", (string?)second["state"]);
        Assert.Equal(200, (int)second["result"]!["status"]!);
        Assert.Equal("pending-destruction", (string?)second["result"]!["body"]!["status"]);
        Assert.Equal(2, second["votes"]!.AsArray().Count);
        var keyNow = await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}");
        Assert.Equal("pending-destruction", (string?)keyNow["status"]);
        Assert.Equal(8, ((DateTimeOffset)keyNow["destroysAt"]! - (DateTimeOffset)second["finishedAt"]!).TotalDays, 0.01); // the body as asked

        // The operation's own record names the requester and the approval; the execution is recorded once.
        var records = (await ApprovalApi.RecordsAsync(team.Node.Admin, "key.schedule-destruction")).AsArray().Where(r => (string?)r!["outcome"] == "ok").ToList();
        var record = Assert.Single(records)!;
        Assert.Equal(team.RequesterId, (string?)record["actorId"]);
        Assert.Equal("user", (string?)record["actorKind"]);
        Assert.Contains("(approval " + id + ")", (string?)record["details"], StringComparison.Ordinal);
        Assert.Single((await ApprovalApi.RecordsAsync(team.Node.Admin, "approval.execute")).AsArray(), r => (string?)r!["outcome"] == "ok");
        Assert.Equal(2, (await ApprovalApi.RecordsAsync(team.Node.Admin, "approval.approve")).AsArray().Count(r => (string?)r!["outcome"] == "ok"));

        // Once executed, a further vote changes nothing.
        await VoteAsync(team.Approvers[2], id, "approve", HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_voter_votes_once_and_the_requester_never_and_the_inbox_lists_it_to_those_who_still_may()
    {
        await using var team = await TeamAsync("key.disable", 2, "administrator");
        var (outsider, _) = await ApprovalApi.UserAsync(team.Node, "approver", "auditors");
        using var _outsider = outsider;
        var key = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var id = await HoldAsync(team.Requester, $"/api/v1/keys/{key}/disable");
        Assert.Contains(id, await InboxAsync(team.Approvers[0]));
        Assert.DoesNotContain(id, await InboxAsync(team.Requester));
        Assert.DoesNotContain(id, await InboxAsync(outsider));

        await VoteAsync(team.Approvers[0], id, "approve");
        Assert.DoesNotContain(id, await InboxAsync(team.Approvers[0]));
        Assert.Contains(id, await InboxAsync(team.Approvers[1]));
        var twice = await VoteAsync(team.Approvers[0], id, "approve", HttpStatusCode.Conflict);
        Assert.Contains("voted", (string?)twice["detail"], StringComparison.Ordinal);
        var own = await VoteAsync(team.Requester, id, "approve", HttpStatusCode.Forbidden);
        Assert.Contains("own request", (string?)own["detail"], StringComparison.Ordinal);
        var ended = await (await team.Approvers[1].GetAsync("/api/v1/approvals?mayVote=true&state=denied")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("pending requests only", (string?)ended["detail"], StringComparison.Ordinal);

        var request = await team.Node.Admin.GetJsonAsync($"/api/v1/approvals/{id}");
        Assert.Equal("pending", (string?)request["state"]);
        Assert.Equal(1, (int)request["approvals"]!);
        Assert.Equal("enabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
    }

    [Fact]
    public async Task A_member_of_another_group_cannot_vote()
    {
        await using var team = await TeamAsync("key.disable", 1);
        var (outsider, _) = await ApprovalApi.UserAsync(team.Node, "approver", "auditors");
        using var _outsider = outsider;
        var key = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var id = await HoldAsync(team.Requester, $"/api/v1/keys/{key}/disable");

        var refused = await VoteAsync(outsider, id, "approve", HttpStatusCode.Forbidden);

        Assert.Contains("'custodians'", (string?)refused["detail"], StringComparison.Ordinal);
        Assert.Equal("pending", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/approvals/{id}"))["state"]);
    }

    [Fact]
    public async Task An_approver_scoped_to_a_key_store_sees_and_decides_that_key_stores_requests_only()
    {
        await using var team = await TeamAsync("key.disable", 1);
        var mine = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var theirs = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var store = (string)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{mine}"))["keyStoreId"]!;
        using var created = await team.Node.Admin.PostJsonAsync("/api/v1/users",
            new { name = "team approver", roles = new[] { new { role = "approver", keyStoreId = store } }, groups = new[] { "custodians" } });
        var approverId = (string)(await created.JsonAsync(HttpStatusCode.Created))["id"]!;
        using var issued = await team.Node.Admin.PostJsonAsync("/api/v1/tokens", new { name = "team approver token", owner = approverId });
        using var scoped = ManagementApi.ClientWith(team.Node, "Bearer " + (string)(await issued.JsonAsync(HttpStatusCode.Created))["token"]!);
        var ours = await HoldAsync(team.Requester, $"/api/v1/keys/{mine}/disable");
        var other = await HoldAsync(team.Requester, $"/api/v1/keys/{theirs}/disable");

        // Another key store's request: neither shown nor decided; the list spans every key store.
        await (await scoped.GetAsync($"/api/v1/approvals/{other}")).ProblemAsync(HttpStatusCode.Forbidden);
        await VoteAsync(scoped, other, "approve", HttpStatusCode.Forbidden);
        await (await scoped.GetAsync("/api/v1/approvals")).ProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal("pending", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/approvals/{other}"))["state"]);
        Assert.Equal("enabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{theirs}"))["status"]);

        // Its own key store's request: shown, and its vote runs the call.
        Assert.Equal("pending", (string?)(await (await scoped.GetAsync($"/api/v1/approvals/{ours}")).JsonAsync(HttpStatusCode.OK))["state"]);
        Assert.Equal("executed", (string?)(await VoteAsync(scoped, ours, "approve"))["state"]);
        Assert.Equal("disabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{mine}"))["status"]);
    }

    [Fact]
    public async Task A_denial_ends_the_request_and_nothing_runs()
    {
        await using var team = await TeamAsync("killswitch.engage", 2, "operator");
        var id = await HoldAsync(team.Requester, "/api/v1/kill-switches", new { scope = "all", reason = "drill" });

        await VoteAsync(team.Approvers[0], id, "approve");
        var denied = await VoteAsync(team.Approvers[1], id, "deny");

        Assert.Equal("denied", (string?)denied["state"]);
        Assert.Contains(team.ApproverIds[1], (string?)denied["endReason"], StringComparison.Ordinal);
        await VoteAsync(team.Approvers[2], id, "approve", HttpStatusCode.Conflict);
        Assert.Empty((await team.Node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
        Assert.Single((await ApprovalApi.RecordsAsync(team.Node.Admin, "approval.deny")).AsArray(), r => (string?)r!["outcome"] == "ok");
    }

    [Fact]
    public async Task A_target_changed_after_the_request_voids_it_and_nothing_runs()
    {
        await using var team = await TeamAsync("key.destroy", 1);
        var key = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var id = await HoldAsync(team.Requester, $"/api/v1/keys/{key}/schedule-destruction");
        using (var rotated = await team.Requester.PostAsync($"/api/v1/keys/{key}/rotate", null))
        {
            await rotated.JsonAsync(HttpStatusCode.OK);
        }

        var voided = await VoteAsync(team.Approvers[0], id, "approve");

        Assert.Equal("void", (string?)voided["state"]);
        Assert.Contains("target changed", (string?)voided["endReason"], StringComparison.Ordinal);
        Assert.Null(voided["result"]);
        Assert.Equal("enabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
        Assert.Single((await ApprovalApi.RecordsAsync(team.Node.Admin, "approval.void")).AsArray(), r => (string?)r!["actorKind"] == "system");
        Assert.Empty((await ApprovalApi.RecordsAsync(team.Node.Admin, "approval.execute")).AsArray());
    }

    [Fact]
    public async Task Two_final_votes_at_once_run_the_call_exactly_once()
    {
        await using var team = await TeamAsync("killswitch.engage", 2, "operator");
        var id = await HoldAsync(team.Requester, "/api/v1/kill-switches", new { scope = "region", value = "eu-west-1", reason = "leak" });
        await VoteAsync(team.Approvers[0], id, "approve");

        var votes = await Task.WhenAll(team.Approvers[1..].Select(async voter =>
        {
            using var response = await voter.PostAsync($"/api/v1/approvals/{id}/approve", null);
            return response.StatusCode;
        }));

        Assert.Contains(HttpStatusCode.OK, votes);
        Assert.All(votes, status => Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Conflict, status.ToString()));
        var done = await team.Node.Admin.GetJsonAsync($"/api/v1/approvals/{id}");
        Assert.True((string?)done["state"] == "executed" && (int?)done["result"]!["status"] == 201, done.ToJsonString());
        Assert.Single((await team.Node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
        Assert.Single((await ApprovalApi.RecordsAsync(team.Node.Admin, "killswitch.engage")).AsArray(), r => (string?)r!["outcome"] == "ok");
        Assert.Single((await ApprovalApi.RecordsAsync(team.Node.Admin, "approval.execute")).AsArray(), r => (string?)r!["outcome"] == "ok");
    }

    [Fact]
    public async Task An_approved_credential_is_kept_sealed_for_its_requester_once_and_no_secret_reaches_a_record()
    {
        await using var team = await TeamAsync("credential.add", 1);
        var store = (string)(await team.Node.Admin.CreateKeyStoreAsync())["id"]!;
        var id = await HoldAsync(team.Requester, $"/api/v1/keystores/{store}/credentials");

        var executed = await VoteAsync(team.Approvers[0], id, "approve");
        Assert.Equal("executed", (string?)executed["state"]);
        Assert.Equal(201, (int)executed["result"]!["status"]!);
        Assert.True((bool)executed["result"]!["sealedForRequester"]!);
        Assert.Null(executed["result"]!["body"]);

        using (var notTheirs = await team.Approvers[0].PostAsync($"/api/v1/approvals/{id}/result", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, notTheirs.StatusCode);
        }

        using var fetched = await team.Requester.PostAsync($"/api/v1/approvals/{id}/result", null);
        var credential = await fetched.JsonAsync(HttpStatusCode.OK);
        var secret = (string)credential["secretAccessKey"]!;
        Assert.NotEmpty(secret);
        Assert.Contains((await team.Node.Admin.GetJsonAsync($"/api/v1/keystores/{store}/credentials")).AsArray(), c => (string?)c!["id"] == (string?)credential["id"]);
        using (var again = await team.Requester.PostAsync($"/api/v1/approvals/{id}/result", null))
        {
            await again.ProblemAsync(HttpStatusCode.Conflict);
        }

        var view = (await team.Node.Admin.GetJsonAsync($"/api/v1/approvals/{id}")).ToJsonString();
        Assert.DoesNotContain(secret, view, StringComparison.Ordinal);
        Assert.False((bool)JsonNode.Parse(view)!["result"]!["sealedForRequester"]!);
        using var audit = await team.Node.Admin.GetAsync("/api/v1/audit/export");
        Assert.DoesNotContain(secret, await audit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var database = Directory.GetFiles(team.Node.DataDirectory, "*.db*", SearchOption.AllDirectories);
        Assert.NotEmpty(database);
        foreach (var file in database)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            Assert.DoesNotContain(secret, await reader.ReadToEndAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_requester_who_lost_the_permission_meanwhile_does_not_borrow_it_from_the_approvers()
    {
        await using var team = await TeamAsync("key.disable", 1);
        var key = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        var id = await HoldAsync(team.Requester, $"/api/v1/keys/{key}/disable");
        using (var demoted = await team.Node.Admin.PutAsJsonAsync($"/api/v1/users/{team.RequesterId}",
            new { name = "demoted", roles = new[] { new { role = "auditor" } }, groups = new[] { "custodians" } }))
        {
            await demoted.JsonAsync(HttpStatusCode.OK);
        }

        var voided = await VoteAsync(team.Approvers[0], id, "approve");

        Assert.Equal("void", (string?)voided["state"]);
        Assert.Contains("no longer holds keys.write", (string?)voided["endReason"], StringComparison.Ordinal);
        Assert.Equal("enabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
    }

    [Fact]
    public async Task A_request_whose_token_was_revoked_meanwhile_is_void_though_its_owner_is_still_enabled()
    {
        await using var team = await TeamAsync("key.disable", 1);
        var key = await ApprovalApi.NewKeyAsync(team.Node.Admin);
        using var issued = await team.Node.Admin.PostJsonAsync("/api/v1/tokens", new { name = "leaked", owner = team.RequesterId });
        var token = await issued.JsonAsync(HttpStatusCode.Created);
        using var leaked = ManagementApi.ClientWith(team.Node, "Bearer " + (string)token["token"]!);
        var id = await HoldAsync(leaked, $"/api/v1/keys/{key}/disable");
        using (var revoked = await team.Node.Admin.DeleteAsync($"/api/v1/tokens/{(string)token["id"]!}"))
        {
            Assert.True(revoked.IsSuccessStatusCode, $"revoke answered {(int)revoked.StatusCode}");
        }

        var voided = await VoteAsync(team.Approvers[0], id, "approve");

        Assert.Equal("void", (string?)voided["state"]);
        Assert.Contains("token is revoked", (string?)voided["endReason"], StringComparison.Ordinal);
        Assert.Equal("enabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);

        // The owner's other token, still valid, asks again: that request runs.
        var again = await HoldAsync(team.Requester, $"/api/v1/keys/{key}/disable");
        Assert.Equal("executed", (string?)(await VoteAsync(team.Approvers[0], again, "approve"))["state"]);
        Assert.Equal("disabled", (string?)(await team.Node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
    }

    [Fact]
    public async Task Under_a_quorum_change_policy_policies_change_only_once_approved_the_guard_itself_included()
    {
        await using var team = await TeamAsync("quorum.change", 1, "administrator");
        using (var add = await team.Requester.PutAsJsonAsync("/api/v1/quorum-policies/destroy",
            new { operations = new[] { "key.destroy" }, requiredApprovals = 2, approverGroup = "custodians" }))
        {
            var id = (string)(await add.JsonAsync(HttpStatusCode.Accepted))["id"]!;
            Assert.Single((await team.Node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray());
            Assert.Equal("executed", (string?)(await VoteAsync(team.Approvers[0], id, "approve"))["state"]);
        }

        Assert.Equal(2, (int)(await team.Node.Admin.GetJsonAsync("/api/v1/quorum-policies/destroy"))["requiredApprovals"]!);

        using var weaken = await team.Requester.DeleteAsync("/api/v1/quorum-policies/guard");
        var held = (string)(await weaken.JsonAsync(HttpStatusCode.Accepted))["id"]!;
        Assert.Equal("denied", (string?)(await VoteAsync(team.Approvers[1], held, "deny"))["state"]);
        Assert.Equal(2, (await team.Node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray().Count);
    }
}
