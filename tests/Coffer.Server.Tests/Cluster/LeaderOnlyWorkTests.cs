using Coffer.Server.Cluster;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>Two nodes in one process on one SQLite file: scheduled work runs on the leader only, and
/// moves to the other node as soon as the leader stops (docs/cluster.md).</summary>
public sealed class LeaderOnlyWorkTests
{
    private static void Short(CofferOptions options, string nodeId)
    {
        options.NodeId = nodeId;
        options.Cluster = new ClusterOptions { HeartbeatMilliseconds = 100, LivenessMilliseconds = 1000, LeaseMilliseconds = 2000, RenewMilliseconds = 500 };
    }

    [Fact]
    public async Task A_follower_runs_no_scheduled_work_and_takes_it_over_when_the_leader_stops()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-leader-only-").FullName;
        try
        {
            var before = DateTimeOffset.UtcNow;
            var a = await DevServer.StartAsync(o => Short(o, "node-a"), directory);
            await using var b = await DevServer.StartAsync(o => Short(o, "node-b"), directory);
            try
            {
                Assert.True(a.Server.Leadership.IsLeader);
                Assert.False(b.Server.Leadership.IsLeader);
                await a.Server.Scheduler.WaitForTickAsync(before).WaitAsync(TimeSpan.FromSeconds(10));

                // The scheduler ticks at once when it runs; on the follower it must not run at all.
                var followerTick = b.Server.Scheduler.WaitForTickAsync(before);
                await Task.Delay(1500);
                Assert.False(followerTick.IsCompleted, "the follower's scheduler ticked");
                Assert.False(b.Server.Leadership.IsLeader);
            }
            finally
            {
                await a.DisposeAsync(); // a graceful stop gives the lease up at once
            }

            var stopped = System.Diagnostics.Stopwatch.StartNew();
            await b.Server.Scheduler.WaitForTickAsync(before).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(b.Server.Leadership.IsLeader);
            Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(2), $"node-b's scheduler ticked {stopped.Elapsed} after node-a stopped");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
