using Coffer.Server.Tests.Audit.Sinks;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>GET /metrics on each node of a cluster: the audit head and the sinks' backlog are the
/// cluster's (the one chain, the cursors the leader moves), the same on every node; each node reports
/// how many nodes are live and whether it leads (docs/operations.md, "Metrics").</summary>
public sealed class ClusterMetricsTests
{
    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task Each_node_reports_the_clusters_audit_head_and_sink_backlog_the_live_nodes_and_whether_it_leads()
    {
        await using var cluster = await PostgresPair.StartAsync(_postgres, o => o.Audit.File = new() { Enabled = true, MaxRetryDelaySeconds = 1 });
        var xksA = XksClient.For(cluster.A);
        for (var i = 0; i < 5; i++)
        {
            XksAssert.Ok(await xksA.EncryptAsync(cluster.A.Info.KeyId, [(byte)i]));
        }

        // The leader's file sink delivers the whole chain, node B's calls at start-up included.
        var storage = cluster.B.Server.Seal.Storage;
        await cluster.A.Admin.WaitForSinkAsync("file", s => (long)s["backlog"]! == 0);
        await Wait.UntilAsync(async () => MetricsTests.Value(await cluster.B.Admin.GetStringAsync("/metrics"), "coffer_cluster_nodes") == 2, "node B to see both nodes live");

        // Both nodes report the stored head (another record may land between a scrape and the read of the
        // head, so this is waited for) and the leader's delivered cursor, though node B wrote none of A's
        // records and never ran the sink.
        string a = "", b = "";
        await Wait.UntilAsync(async () =>
        {
            a = await cluster.A.Admin.GetStringAsync("/metrics");
            b = await cluster.B.Admin.GetStringAsync("/metrics");
            var head = (await storage.Audit.GetHeadAsync()).Sequence;
            return new[] { a, b }.All(text => MetricsTests.Value(text, "coffer_audit_head_sequence") == head
                && MetricsTests.Value(text, "coffer_audit_sink_backlog{sink=\"file\"}") == 0);
        }, "both nodes to report the cluster's audit head and no backlog");
        Assert.True(MetricsTests.Value(b, "coffer_audit_head_sequence") > cluster.B.Server.Audit.Head.Sequence, "node A wrote records after node B's last");
        Assert.All(new[] { a, b }, text => Assert.Equal(2, MetricsTests.Value(text, "coffer_cluster_nodes")));
        Assert.Equal(1, MetricsTests.Value(a, "coffer_cluster_leader"));
        Assert.Equal(0, MetricsTests.Value(b, "coffer_cluster_leader"));

        await cluster.StopAsync(cluster.A);
        await Wait.UntilAsync(async () =>
        {
            var alone = await cluster.B.Admin.GetStringAsync("/metrics");
            return MetricsTests.Value(alone, "coffer_cluster_leader") == 1 && MetricsTests.Value(alone, "coffer_cluster_nodes") == 1;
        }, "node B to lead, alone");
    }
}
