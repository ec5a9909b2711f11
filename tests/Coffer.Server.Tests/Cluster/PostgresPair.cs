using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>
/// Nodes A and B, two real in-process Coffer servers on one fresh PostgreSQL database (docs/cluster.md).
/// B shares A's data directory, so both unseal with the same dev seal key and serve the same demo key
/// store and credentials; both audit into the one chain. A node that stops or is sealed gives the lease
/// up, and the other takes it within a heartbeat.
/// </summary>
internal sealed class PostgresPair : IAsyncDisposable
{
    private readonly HashSet<DevServer> _stopped = [];

    private PostgresPair(DevServer a, DevServer b)
    {
        A = a;
        B = b;
    }

    /// <summary>Started first: the leader, once both are up.</summary>
    public DevServer A { get; }

    public DevServer B { get; }

    /// <param name="configure">Further options, applied alike to both nodes.</param>
    public static async Task<PostgresPair> StartAsync(PostgresFixture postgres, Action<CofferOptions>? configure = null)
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var a = await DevServer.StartAsync(o => Configure(o, connectionString, "node-a", configure));
        try
        {
            // Each is handed out once current (DevServer.StartAsync waits for its /ping).
            var b = await DevServer.StartAsync(o => Configure(o, connectionString, "node-b", configure), dataDirectory: a.DataDirectory);
            return new PostgresPair(a, b);
        }
        catch
        {
            await a.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops <paramref name="node"/> gracefully; the other stays up.</summary>
    public async Task StopAsync(DevServer node)
    {
        if (_stopped.Add(node))
        {
            await node.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(B);
        await StopAsync(A); // owns the shared data directory
    }

    private static void Configure(CofferOptions options, string connectionString, string nodeId, Action<CofferOptions>? configure)
    {
        options.NodeId = nodeId;
        options.Storage.Engine = StorageOptions.Postgres;
        options.Storage.ConnectionString = connectionString;
        // Frequent heartbeats, so a node that stops or steps down is seen at once (it gives the lease up and
        // marks itself stopped); the liveness, lease and staleness bounds stay at their defaults, so a node
        // slowed down by a loaded machine is not taken for gone.
        options.Cluster = new ClusterOptions { HeartbeatMilliseconds = 200 };
        configure?.Invoke(options);
    }
}
