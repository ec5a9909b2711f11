using System.Net;
using Coffer.Server.Approvals;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Approvals;

/// <summary>
/// An approved request whose run will never finish — the node stopped between the quorum and the
/// result, or the run failed part-way — is marked interrupted by the lifecycle scheduler, once, with
/// an audit record; it never runs. A request this node is running is left alone.
/// </summary>
public sealed class ApprovalInterruptionTests
{
    [Fact]
    public async Task A_request_a_stopped_node_left_approved_is_interrupted_at_the_next_start_once_and_never_runs()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
        var first = await DevServer.StartAsync(time: clock);
        await first.Admin.PutQuorumAsync("engage", ["killswitch.engage"], 1, "ops");
        var id = await HoldKillSwitchAsync(first);

        // What a stop right after the final vote's conditional update leaves behind.
        await using var node = await first.RestartAsync(whileStopped: () => LeaveApproved(first.DataDirectory, id));
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));

        var request = await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}");
        Assert.Equal("interrupted", (string?)request["state"]);
        Assert.Equal(ApprovalInterruptions.Reason, (string?)request["endReason"]);
        var record = Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "approval.interrupt")).AsArray())!;
        Assert.Equal("system", (string?)record["actorKind"]);
        Assert.Contains(id, (string?)record["details"], StringComparison.Ordinal);
        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());

        // Ended for good: later sweeps record nothing more, and it takes no votes.
        clock.Advance(TimeSpan.FromMinutes(1));
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "approval.interrupt")).AsArray());
        var (voter, _) = await ApprovalApi.UserAsync(node, "approver", "ops");
        using (voter)
        {
            using var vote = await voter.PostJsonAsync($"/api/v1/approvals/{id}/approve", new { comment = "too late" });
            await vote.ProblemAsync(HttpStatusCode.Conflict);
        }

        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/kill-switches")).AsArray());
    }

    [Fact]
    public async Task A_request_this_node_is_running_is_left_alone_and_interrupted_once_its_run_ended_without_a_result()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
        await using var node = await DevServer.StartAsync(time: clock);
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));
        await node.Admin.PutQuorumAsync("engage", ["killswitch.engage"], 1, "ops");
        var id = await HoldKillSwitchAsync(node);

        using (node.Server.ApprovalRuns.Claim(id))
        {
            LeaveApproved(node.DataDirectory, id); // as the final vote does, while its run is under way
            clock.Advance(TimeSpan.FromMinutes(1));
            await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal("approved", (string?)(await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}"))["state"]);
            Assert.Empty((await ApprovalApi.RecordsAsync(node.Admin, "approval.interrupt")).AsArray());
        }

        // The run ended and left no result (it failed part-way).
        clock.Advance(TimeSpan.FromMinutes(1));
        await node.Server.Scheduler.WaitForTickAsync(clock.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("interrupted", (string?)(await node.Admin.GetJsonAsync($"/api/v1/approvals/{id}"))["state"]);
        Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "approval.interrupt")).AsArray());
    }

    [Fact]
    public void A_claim_counts_so_the_loser_of_two_final_votes_does_not_end_the_winners_claim()
    {
        var runs = new ApprovalRuns();
        var winner = runs.Claim("apr_1");
        var loser = runs.Claim("apr_1");

        loser.Dispose();
        loser.Dispose(); // twice changes nothing
        Assert.True(runs.IsRunning("apr_1"));
        winner.Dispose();
        Assert.False(runs.IsRunning("apr_1"));
        Assert.False(runs.IsRunning("apr_2"));
    }

    internal static async Task<string> HoldKillSwitchAsync(DevServer node)
    {
        using var held = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "drill" });
        return (string)(await held.JsonAsync(HttpStatusCode.Accepted))["id"]!;
    }

    private static void LeaveApproved(string dataDirectory, string id)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "coffer.db")};Pooling=False");
        connection.Open();
        using var update = connection.CreateCommand();
        update.CommandText = "UPDATE approval_requests SET state = 'approved' WHERE id = $id AND state = 'pending'";
        update.Parameters.AddWithValue("$id", id);
        Assert.Equal(1, update.ExecuteNonQuery());
    }
}
