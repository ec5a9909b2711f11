using System.Net;
using Coffer.Server.Services;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Server.Tests.Approvals;

/// <summary>
/// An approved request runs as a typed command read from what the request stored (its operation,
/// route values and body), through the service its endpoint calls: a request whose route changed shape
/// since it was held still runs, the executor needs no HTTP request, and a held call whose input could
/// only fail is refused when it is made rather than after the votes.
/// </summary>
public sealed class ApprovedCommandTests
{
    [Fact]
    public async Task An_approved_request_runs_though_the_route_it_was_captured_from_changed_shape()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("disable", ["key.disable"], 1, "custodians");
        var key = await ApprovalApi.NewKeyAsync(node.Admin);
        var id = await HoldAsync(node.Admin, $"/api/v1/keys/{key}/disable");

        // As a request held by an earlier server whose route read differently.
        Update(node.DataDirectory, id, "route_pattern = '/api/v0/key/{keyId}/off', path = '/api/v0/key/" + key + "/off'");
        var (approver, _) = await ApprovalApi.UserAsync(node, "approver", "custodians");
        using (approver)
        {
            using var vote = await approver.PostJsonAsync($"/api/v1/approvals/{id}/approve", new { comment = "ok" });
            var decided = await vote.JsonAsync(HttpStatusCode.OK);
            Assert.Equal("executed", (string?)decided["state"]);
            Assert.Equal(200, (int)decided["result"]!["status"]!);
            Assert.Equal("disabled", (string?)decided["result"]!["body"]!["status"]);
        }

        Assert.Equal("disabled", (string?)(await node.Admin.GetJsonAsync($"/api/v1/keys/{key}"))["status"]);
        var record = Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "key.disable")).AsArray(), r => (string?)r!["outcome"] == "ok")!;
        Assert.Equal(key, (string?)record["keyId"]);
        Assert.Contains("(approval " + id + ")", (string?)record["details"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_executor_runs_an_approved_request_without_an_HTTP_request()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("destroy", ["key.destroy"], 1, "custodians");
        var key = await ApprovalApi.NewKeyAsync(node.Admin);
        var id = await HoldAsync(node.Admin, $"/api/v1/keys/{key}/schedule-destruction", new { waitingPeriodDays = 10 });
        Update(node.DataDirectory, id, "state = 'approved'");
        var request = await node.Server.Seal.Storage.Approvals.GetRequestAsync(id) ?? throw new InvalidOperationException("the request is stored");

        await node.Server.ApprovalExecutor.RunAsync(request, new Actor("user", "usr_approver", "192.0.2.7"), CancellationToken.None);

        var executed = await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}");
        Assert.Equal("executed", (string?)executed["state"]);
        Assert.Equal("pending-destruction", (string?)executed["result"]!["body"]!["status"]);
        var keyNow = await node.Admin.GetJsonAsync($"/api/v1/keys/{key}");
        Assert.Equal(10, ((DateTimeOffset)keyNow["destroysAt"]! - (DateTimeOffset)executed["finishedAt"]!).TotalDays, 0.01);
        var execution = Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "approval.execute")).AsArray(), r => (string?)r!["outcome"] == "ok")!;
        Assert.Equal("usr_approver", (string?)execution["actorId"]);
        Assert.Equal("192.0.2.7", (string?)execution["sourceIp"]);
    }

    [Theory]
    [InlineData("key.destroy", "/api/v1/keys/{key}/schedule-destruction", "{\"waitingPeriodDays\": 3}", "waitingPeriodDays is 7 to 30")]
    [InlineData("killswitch.engage", "/api/v1/kill-switches", "{\"scope\": \"all\"}", "reason is required")]
    [InlineData("killswitch.engage", "/api/v1/kill-switches", "{\"scope\": \"everything\", \"reason\": \"drill\"}", "scope is one of")]
    public async Task A_held_call_whose_input_could_only_fail_is_refused_at_once_and_nothing_is_held(string operation, string path, string body, string problem)
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("guard", [operation], 1, "custodians");
        var key = await ApprovalApi.NewKeyAsync(node.Admin);

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await node.Admin.PostAsync(path.Replace("{key}", key, StringComparison.Ordinal), content);

        Assert.Contains(problem, (string?)(await response.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/approvals")).AsArray());
    }

    private static async Task<string> HoldAsync(HttpClient requester, string path, object? body = null)
    {
        using var response = body is null ? await requester.PostAsync(path, null) : await requester.PostJsonAsync(path, body);
        return (string)(await response.JsonAsync(HttpStatusCode.Accepted))["id"]!;
    }

    private static void Update(string dataDirectory, string id, string assignments)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "coffer.db")};Pooling=False");
        connection.Open();
        using var update = connection.CreateCommand();
        update.CommandText = $"UPDATE approval_requests SET {assignments} WHERE id = $id";
        update.Parameters.AddWithValue("$id", id);
        Assert.Equal(1, update.ExecuteNonQuery());
    }
}
