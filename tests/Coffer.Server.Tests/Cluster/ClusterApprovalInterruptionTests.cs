using System.Net;
using Coffer.Approvals;
using Coffer.Server.Tests.Approvals;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>An approved request runs on the node that took its final vote, which the request records
/// (docs/cluster.md): the leader's sweep leaves a run of another live node alone, and marks it
/// interrupted once that node's process is gone (stopped, or replaced by a restart).</summary>
public sealed class ClusterApprovalInterruptionTests
{
    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task The_leaders_sweep_leaves_a_run_of_another_live_node_alone_and_interrupts_it_once_that_node_stopped()
    {
        await using var cluster = await PostgresPair.StartAsync(_postgres);
        Assert.True(cluster.A.Server.Leadership.IsLeader);
        var storage = cluster.A.Server.Seal.Storage;
        await cluster.A.Admin.PutQuorumAsync("engage", ["killswitch.engage"], 1, "ops");
        var nodeB = new ApprovalRunner("node-b", (await storage.Cluster.ListNodesAsync()).Single(n => n.Report.NodeId == "node-b").Report.InstanceId);

        // The final vote, taken by node B, runs the call there and records B's process as its runner.
        var voted = await ApprovalInterruptionTests.HoldKillSwitchAsync(cluster.A);
        var (voter, _) = await ApprovalApi.UserAsync(cluster.B, "approver", "ops");
        using (voter)
        {
            using var vote = await voter.PostJsonAsync($"/api/v1/approvals/{voted}/approve", new { comment = "go" });
            Assert.Equal("executed", (string?)(await vote.JsonAsync(HttpStatusCode.OK))["state"]);
        }

        Assert.Equal(nodeB, (await storage.Approvals.GetRequestAsync(voted))!.RunBy);

        // Left approved as a final vote leaves it while its call runs: one by node B's live process, one by
        // a process of node B that has since been replaced by a restart.
        var running = await ApprovalInterruptionTests.HoldKillSwitchAsync(cluster.A);
        var orphaned = await ApprovalInterruptionTests.HoldKillSwitchAsync(cluster.A);
        Assert.True(await storage.Approvals.ApproveAsync(running, nodeB));
        Assert.True(await storage.Approvals.ApproveAsync(orphaned, nodeB with { InstanceId = "0123456789abcdef" }));

        await cluster.A.Server.Scheduler.TickAsync();

        Assert.Equal(ApprovalStates.Approved, (await storage.Approvals.GetRequestAsync(running))!.State);
        Assert.Equal(ApprovalStates.Interrupted, (await storage.Approvals.GetRequestAsync(orphaned))!.State);

        await cluster.StopAsync(cluster.B);
        await cluster.A.Server.Scheduler.TickAsync();

        Assert.Equal(ApprovalStates.Interrupted, (await storage.Approvals.GetRequestAsync(running))!.State);
        var records = (await ApprovalApi.RecordsAsync(cluster.A.Admin, "approval.interrupt")).AsArray();
        Assert.Equal(2, records.Count);
        Assert.Contains(records, r => ((string?)r!["details"])!.Contains(running, StringComparison.Ordinal));
        Assert.Contains(records, r => ((string?)r!["details"])!.Contains(orphaned, StringComparison.Ordinal));
    }
}
