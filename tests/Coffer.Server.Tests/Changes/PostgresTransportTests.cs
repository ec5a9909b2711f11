using System.Collections.Concurrent;
using Coffer.Changes;
using Coffer.Server.Changes;
using Coffer.Server.Changes.Postgres;
using Coffer.Testing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Coffer.Server.Tests.Changes;

/// <summary>
/// The PostgreSQL transport between nodes (src/Coffer.Server/Changes/Postgres) on a real server:
/// notices reach the other node's caches, unreadable ones reload everything, and freshness holds only
/// while the listening connection answers and every received change is in force. Each "node" here is a
/// change feed with its own broadcast, listener and freshness; whole servers are in
/// <c>Cluster/StalenessTests</c>.
/// </summary>
public sealed class PostgresTransportTests
{
    private static readonly TimeSpan Staleness = TimeSpan.FromSeconds(2);

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task A_change_published_on_one_node_reloads_the_other_nodes_subscribers_of_its_topic()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var a = await ListeningNode.StartAsync("node-a", database);
        await using var b = await ListeningNode.StartAsync("node-b", database);
        var before = b.Reloads("switches");

        await a.Feed.PublishAsync(ChangeTopic.KillSwitches);

        await Wait.UntilAsync(() => b.Reloads("switches") > before, "node B to reload its kill switches");
        Assert.Equal(1, a.Reloads("switches") - a.ReloadsAtStart("switches")); // its own publish, not its own notice again
        Assert.True(b.Freshness.IsCurrent);
    }

    [Fact]
    public async Task An_unreadable_notification_reloads_every_cache_and_is_logged_cut_short()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var b = await ListeningNode.StartAsync("node-b", database);
        var rules = b.Reloads("rules");
        var switches = b.Reloads("switches");
        var payload = "2:garbled:" + new string('x', 200);

        await NotifyAsync(database, payload);

        await Wait.UntilAsync(() => b.Reloads("rules") > rules && b.Reloads("switches") > switches, "node B to reload everything");
        Assert.Contains("A change notification could not be read (2:garbled:xxx", b.Logs.All, StringComparison.Ordinal);
        Assert.DoesNotContain(payload, b.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_is_not_current_before_its_listener_has_reloaded_everything()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var b = await ListeningNode.StartAsync("node-b", database, holdFirstReload: true);

        await Task.Delay(Staleness);
        Assert.False(b.Freshness.IsCurrent);

        b.ReleaseReloads();
        await Wait.UntilAsync(() => b.Freshness.IsCurrent, "node B to be current once it reloaded");
    }

    [Fact]
    public async Task A_dropped_listening_connection_makes_the_node_not_current_until_it_reconnected_and_reloaded_everything()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var b = await ListeningNode.StartAsync("node-b", database);
        var rules = b.Reloads("rules");

        await TerminateListenersAsync(database);

        await Wait.UntilAsync(() => !b.Freshness.IsCurrent, "node B to stop being current");
        await Wait.UntilAsync(() => b.Freshness.IsCurrent, "node B to be current again");
        Assert.True(b.Reloads("rules") > rules, "a full reload ran before node B was current again");
        Assert.Contains("The change listener lost the database", b.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_received_change_that_could_not_be_applied_makes_the_node_not_current_until_a_reload_succeeds()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var a = await ListeningNode.StartAsync("node-a", database);
        await using var b = await ListeningNode.StartAsync("node-b", database);
        b.FailReloads = true;

        await a.Feed.PublishAsync(ChangeTopic.KillSwitches);

        await Wait.UntilAsync(() => !b.Freshness.IsCurrent, "node B to stop being current");
        b.FailReloads = false;
        await Wait.UntilAsync(() => b.Freshness.IsCurrent, "node B to be current again");
    }

    private static async Task NotifyAsync(string database, string payload)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var notify = new NpgsqlCommand("SELECT pg_notify('coffer_changes', $1)", connection) { Parameters = { new() { Value = payload } } };
        await notify.ExecuteNonQueryAsync();
    }

    private static async Task TerminateListenersAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var terminate = new NpgsqlCommand(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", connection);
        Assert.True((long)(await terminate.ExecuteScalarAsync())! >= 1);
    }

    /// <summary>A change feed with two caches ("rules", "switches") that count their reloads, its
    /// PostgreSQL broadcast and listener, and its freshness.</summary>
    private sealed class ListeningNode : IAsyncDisposable
    {
        private readonly ConcurrentDictionary<string, int> _reloads = new();
        private readonly Dictionary<string, int> _atStart = [];
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ILoggerFactory _loggers;
        private readonly NpgsqlDataSource _dataSource;
        private readonly PostgresChangeListener _listener;

        private ListeningNode(string nodeId, string database, bool holdFirstReload)
        {
            _loggers = LoggerFactory.Create(b => b.AddProvider(Logs));
            _dataSource = NpgsqlDataSource.Create(database);
            Feed = new ChangeFeed(nodeId, _loggers.CreateLogger<ChangeFeed>(), new PostgresChangeBroadcast(_dataSource));
            Feed.Subscribe("rules", Reload("rules"), ChangeTopic.AccessRules, ChangeTopic.RegionSets);
            Feed.Subscribe("switches", Reload("switches"), ChangeTopic.KillSwitches, ChangeTopic.RegionSets);
            Freshness = ClusterFreshness.Bounded(Staleness, TimeProvider.System);
            _listener = new PostgresChangeListener(_dataSource, Feed, Freshness, Staleness, TimeProvider.System, _loggers.CreateLogger<PostgresChangeListener>());
            if (!holdFirstReload)
            {
                _released.SetResult();
            }
        }

        public CapturedLogs Logs { get; } = new();

        public ChangeFeed Feed { get; }

        public ClusterFreshness Freshness { get; }

        public volatile bool FailReloads;

        public static async Task<ListeningNode> StartAsync(string nodeId, string database, bool holdFirstReload = false)
        {
            var node = new ListeningNode(nodeId, database, holdFirstReload);
            await node._listener.StartAsync(CancellationToken.None);
            if (!holdFirstReload)
            {
                await Wait.UntilAsync(() => node.Freshness.IsCurrent, $"{nodeId} to be current");
                foreach (var cache in new[] { "rules", "switches" })
                {
                    node._atStart[cache] = node.Reloads(cache);
                }
            }

            return node;
        }

        public int Reloads(string cache) => _reloads.GetValueOrDefault(cache);

        public int ReloadsAtStart(string cache) => _atStart[cache];

        public void ReleaseReloads() => _released.TrySetResult();

        private Func<CancellationToken, Task> Reload(string cache) => async ct =>
        {
            await _released.Task.WaitAsync(ct);
            if (FailReloads)
            {
                throw new InvalidOperationException("The database is unreachable (test).");
            }

            _reloads.AddOrUpdate(cache, 1, (_, n) => n + 1);
        };

        public async ValueTask DisposeAsync()
        {
            await _listener.StopAsync(CancellationToken.None);
            _listener.Dispose();
            Feed.Dispose();
            await _dataSource.DisposeAsync();
            _loggers.Dispose();
        }
    }
}
