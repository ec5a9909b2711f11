using Coffer.Changes;
using Coffer.Server.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Coffer.Server.Changes.Postgres;

/// <summary>
/// A node's change transport on a shared PostgreSQL database (docs/cluster.md, "Changes between nodes
/// and staleness"): the broadcast its feed sends with, the listener that receives the other nodes'
/// changes, and the freshness that listener vouches for. None on SQLite. Its connections are its own,
/// so the listening one never takes a place in the storage's pool.
/// </summary>
internal sealed class PostgresChanges : IAsyncDisposable
{
    private readonly NpgsqlDataSource _connections;
    private readonly TimeSpan _staleness;
    private PostgresChangeListener? _listener;

    private PostgresChanges(NpgsqlDataSource connections, TimeSpan staleness)
    {
        _connections = connections;
        _staleness = staleness;
        Broadcast = new PostgresChangeBroadcast(connections);
        // Connection liveness is real time, even where tests move the server's business clock.
        Freshness = ClusterFreshness.Bounded(staleness, TimeProvider.System);
    }

    /// <summary>The <c>application_name</c> of the transport's sessions.</summary>
    public const string ApplicationName = "coffer-changes";

    public IChangeBroadcast Broadcast { get; }

    public ClusterFreshness Freshness { get; }

    /// <summary>The transport for <paramref name="options"/>'s storage, a shared PostgreSQL database
    /// (a single node on SQLite has none). Nothing connects until it listens or broadcasts.</summary>
    public static async Task<PostgresChanges> CreateAsync(CofferOptions options, CancellationToken ct)
    {
        var connection = new NpgsqlConnectionStringBuilder(options.Storage.ConnectionString)
        {
            // Names the listening session in pg_stat_activity.
            ApplicationName = ApplicationName,
            // A query abandoned on a silent network closes its connection at once instead of waiting
            // for the server to confirm the cancellation: the listener reconnects.
            CancellationTimeout = -1,
        };
        if (await options.Storage.ReadPasswordAsync(ct) is { } password)
        {
            connection.Password = password;
        }

        return new PostgresChanges(NpgsqlDataSource.Create(connection), TimeSpan.FromSeconds(options.Cluster.StalenessSeconds));
    }

    /// <summary>Starts listening for <paramref name="changes"/>; the node is current once the listener
    /// has connected and reloaded every cache.</summary>
    public Task StartListeningAsync(IChangeFeed changes, ILoggerFactory loggers, CancellationToken ct)
    {
        _listener = new PostgresChangeListener(_connections, changes, Freshness, _staleness, TimeProvider.System, loggers.CreateLogger<PostgresChangeListener>());
        return _listener.StartAsync(ct);
    }

    /// <summary>Stops listening, once: before the caches the listener reloads are gone.</summary>
    public async Task StopListeningAsync()
    {
        if (Interlocked.Exchange(ref _listener, null) is { } listener)
        {
            await listener.StopAsync(CancellationToken.None);
            listener.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopListeningAsync();
        await _connections.DisposeAsync();
    }
}
