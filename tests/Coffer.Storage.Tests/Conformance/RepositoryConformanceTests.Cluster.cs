namespace Coffer.Storage.Tests.Conformance;

/// <summary>The node registry and the leader lease (docs/cluster.md). Time is the database's, so these
/// use real, short leases and liveness bounds instead of a fake clock.</summary>
public abstract partial class RepositoryConformanceTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    private static IClusterRepository ClusterOf(OpenedStorage storage) => ((ICofferStorage)storage.Lifetime).Cluster;

    private IClusterRepository Cluster => ClusterOf(Store);

    private static ClusterNodeReport Report(string node, string instance, bool sealedNode = false, string health = "ACTIVE") =>
        new(node, instance, "https://xks." + node, "https://admin." + node, "1.2.3", sealedNode, health, null);

    [Fact]
    public async Task A_joined_node_is_listed_with_what_it_reported_and_a_fresh_heartbeat()
    {
        var report = new ClusterNodeReport("node-a", "inst-1", "https://10.0.0.1:8443", "https://10.0.0.1:8444", "1.2.3", true, "UNAVAILABLE", "ACTIVE");

        Assert.Null(await Cluster.JoinAsync(report, Long));

        var node = Assert.Single(await Cluster.ListNodesAsync());
        Assert.Equal(report, node.Report);
        Assert.False(node.Stopped);
        Assert.InRange(node.HeartbeatAge, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.True(node.IsLive(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_second_instance_cannot_take_the_id_of_a_live_one_and_changes_nothing()
    {
        Assert.Null(await Cluster.JoinAsync(Report("node-a", "inst-1"), Long));

        var holder = await Cluster.JoinAsync(Report("node-a", "inst-2", health: "UNAVAILABLE"), Long);

        Assert.NotNull(holder);
        Assert.Equal("inst-1", holder.Report.InstanceId);
        var stored = Assert.Single(await Cluster.ListNodesAsync());
        Assert.Equal(Report("node-a", "inst-1"), stored.Report);
    }

    [Fact]
    public async Task An_id_whose_holder_stopped_or_fell_silent_can_be_taken()
    {
        Assert.Null(await Cluster.JoinAsync(Report("node-a", "inst-1"), Long));
        await Cluster.LeaveAsync("node-a", "inst-1");
        Assert.True(Assert.Single(await Cluster.ListNodesAsync()).Stopped);

        Assert.Null(await Cluster.JoinAsync(Report("node-a", "inst-2"), Long));
        Assert.False(Assert.Single(await Cluster.ListNodesAsync()).Stopped);

        // inst-2 is now silent for longer than a short liveness bound.
        await Task.Delay(300);
        Assert.Null(await Cluster.JoinAsync(Report("node-a", "inst-3"), TimeSpan.FromMilliseconds(100)));
        Assert.Equal("inst-3", Assert.Single(await Cluster.ListNodesAsync()).Report.InstanceId);
    }

    [Fact]
    public async Task A_heartbeat_updates_the_report_only_for_the_instance_that_holds_the_id()
    {
        Assert.Null(await Cluster.JoinAsync(Report("node-a", "inst-1"), Long));

        Assert.True(await Cluster.HeartbeatAsync(Report("node-a", "inst-1", sealedNode: true, health: "UNAVAILABLE")));
        Assert.False(await Cluster.HeartbeatAsync(Report("node-a", "inst-old", health: "DEGRADED")));

        var node = Assert.Single(await Cluster.ListNodesAsync());
        Assert.True(node.Report.Sealed);
        Assert.Equal("UNAVAILABLE", node.Report.Health);
    }

    [Fact]
    public async Task A_heartbeat_age_grows_on_the_database_clock_until_the_next_heartbeat()
    {
        Assert.Null(await Cluster.JoinAsync(Report("node-a", "inst-1"), Long));
        await Task.Delay(400);

        var silent = Assert.Single(await Cluster.ListNodesAsync());
        Assert.True(silent.HeartbeatAge >= TimeSpan.FromMilliseconds(350), $"age {silent.HeartbeatAge}");
        Assert.False(silent.IsLive(TimeSpan.FromMilliseconds(300)));

        // The heartbeat starts the age afresh: it is at most the time since just before it (plus the
        // database clock's millisecond), however slowly a loaded machine lists the nodes after it.
        var since = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await Cluster.HeartbeatAsync(Report("node-a", "inst-1")));
        var fresh = Assert.Single(await Cluster.ListNodesAsync());
        var bound = since.Elapsed + TimeSpan.FromMilliseconds(5);
        Assert.True(fresh.HeartbeatAge <= bound, $"age {fresh.HeartbeatAge}, {bound} since the heartbeat began");
        Assert.True(fresh.IsLive(bound));
    }

    [Fact]
    public async Task Nodes_are_listed_by_id_from_every_connection()
    {
        var other = ClusterOf(await OpenAsync());
        Assert.Null(await Cluster.JoinAsync(Report("node-b", "inst-b"), Long));
        Assert.Null(await other.JoinAsync(Report("node-a", "inst-a"), Long));

        Assert.Equal(["node-a", "node-b"], (await Cluster.ListNodesAsync()).Select(n => n.Report.NodeId));
    }

    [Fact]
    public async Task Nobody_leads_a_new_database()
    {
        Assert.Null(await Cluster.GetLeaderAsync());
    }

    [Fact]
    public async Task The_first_to_ask_leads_and_the_others_are_refused_while_its_lease_lasts()
    {
        var other = ClusterOf(await OpenAsync());

        Assert.True(await Cluster.TryLeadAsync("node-a", "inst-a", Long));
        Assert.False(await other.TryLeadAsync("node-b", "inst-b", Long));
        Assert.True(await Cluster.TryLeadAsync("node-a", "inst-a", Long)); // renewal

        var leader = await other.GetLeaderAsync();
        Assert.NotNull(leader);
        Assert.Equal(("node-a", "inst-a"), (leader.NodeId, leader.InstanceId));
        Assert.True(leader.ExpiresAt > leader.AcquiredAt);
    }

    [Fact]
    public async Task An_expired_lease_goes_to_the_next_node_that_asks_and_not_back_by_renewal()
    {
        var other = ClusterOf(await OpenAsync());
        // Long enough that a loaded machine still asks for node-b within it; the wait runs to its end.
        Assert.True(await Cluster.TryLeadAsync("node-a", "inst-a", TimeSpan.FromSeconds(2)));
        var first = await Cluster.GetLeaderAsync();
        Assert.False(await other.TryLeadAsync("node-b", "inst-b", Long));

        var untilExpired = first!.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(150);
        if (untilExpired > TimeSpan.Zero)
        {
            await Task.Delay(untilExpired);
        }

        Assert.Null(await Cluster.GetLeaderAsync());
        Assert.True(await other.TryLeadAsync("node-b", "inst-b", Long));

        Assert.False(await Cluster.TryLeadAsync("node-a", "inst-a", Long));
        var leader = await Cluster.GetLeaderAsync();
        Assert.Equal("inst-b", leader?.InstanceId);
        Assert.True(leader!.AcquiredAt >= first!.ExpiresAt, $"acquired at {leader.AcquiredAt:O}, the first lease expired at {first.ExpiresAt:O}");
    }

    [Fact]
    public async Task Renewing_keeps_the_time_leadership_began()
    {
        Assert.True(await Cluster.TryLeadAsync("node-a", "inst-a", Long));
        var first = await Cluster.GetLeaderAsync();
        await Task.Delay(50);
        Assert.True(await Cluster.TryLeadAsync("node-a", "inst-a", Long));

        var renewed = await Cluster.GetLeaderAsync();
        Assert.Equal(first!.AcquiredAt, renewed!.AcquiredAt);
        Assert.True(renewed.ExpiresAt > first.ExpiresAt);
    }

    [Fact]
    public async Task A_resigned_lease_is_free_at_once_and_only_its_holder_can_resign_it()
    {
        var other = ClusterOf(await OpenAsync());
        Assert.True(await Cluster.TryLeadAsync("node-a", "inst-a", Long));

        await other.ResignAsync("inst-b");
        Assert.False(await other.TryLeadAsync("node-b", "inst-b", Long));

        await Cluster.ResignAsync("inst-a");
        Assert.Null(await other.GetLeaderAsync());
        Assert.True(await other.TryLeadAsync("node-b", "inst-b", Long));
    }

    [Fact]
    public async Task Of_many_nodes_asking_at_once_exactly_one_leads()
    {
        var clusters = new List<IClusterRepository>();
        for (var i = 0; i < 4; i++)
        {
            clusters.Add(ClusterOf(await OpenAsync()));
        }

        var won = await Task.WhenAll(clusters.Select((c, i) => Task.Run(() => c.TryLeadAsync($"node-{i}", $"inst-{i}", Long))));

        Assert.Single(won, w => w);
    }
}
