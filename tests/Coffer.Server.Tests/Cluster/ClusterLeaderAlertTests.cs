using System.Text.Json.Nodes;
using Coffer.Server.Tests.Alerts;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>A change of cluster leader is an alert (docs/alerts.md): the node that stepped down and the
/// node that took the lease each raise a <c>cluster.leader</c> event, delivered once for the cluster
/// (only the leader dispatches, from the one audit chain).</summary>
public sealed class ClusterLeaderAlertTests
{
    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task A_leader_that_steps_down_and_the_node_that_takes_over_each_raise_one_cluster_leader_alert()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var cluster = await PostgresPair.StartAsync(_postgres);
        Assert.True(cluster.A.Server.Leadership.IsLeader);
        var webhook = (string)(await cluster.A.Admin.AddWebhookAsync(receiver.Url, "cluster.leader"))["id"]!;

        // A sealed node cannot run scheduled work: it gives the lease up and node B takes it.
        await cluster.A.Server.Seal.SealAsync();
        await Wait.UntilAsync(() => cluster.B.Server.Leadership.IsLeader, "node B to lead");
        await Wait.UntilAsync(() => receiver.Accepted.Count >= 2, "both leader events to be delivered");
        await Task.Delay(1500); // time for a repeat, were there one

        var events = receiver.Accepted.Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(2, events.Count);
        Assert.All(receiver.Accepted, r => Assert.Equal("cluster.leader", r.EventType));
        Assert.Equal(2, events.Select(e => (string?)e["id"]).Distinct().Count());
        Assert.Equal(
            [("node-a", "stepped down: the node is sealed"), ("node-b", "became the leader")],
            events.Select(e => ((string?)e["node"], (string?)e["reason"])).Order().ToList());
        Assert.All(events, e => Assert.Equal("system", (string?)e["actor"]!["kind"]));
        Assert.Equal(2, (await cluster.B.Admin.DeliveriesAsync("webhook=" + webhook)).Count);
    }
}
