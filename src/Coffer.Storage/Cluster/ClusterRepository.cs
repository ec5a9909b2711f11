using System.Data.Common;
using Dapper;

namespace Coffer.Storage.Cluster;

/// <summary>
/// <see cref="IClusterRepository"/> for every engine: the SQL is standard (the upsert's
/// <c>ON CONFLICT … DO UPDATE … WHERE</c> is spelt alike by SQLite 3.24+ and PostgreSQL 9.5+), and the one
/// thing each engine says its own way, the database's clock, comes in as <paramref name="nowMilliseconds"/>.
/// </summary>
/// <param name="openConnection">An open connection, taken from the engine's pool, disposed by the caller.</param>
/// <param name="nowMilliseconds">An SQL expression for the database's current time in unix milliseconds,
/// the same value wherever it appears in one statement (<c>SqlDialect.NowMilliseconds</c>).</param>
internal sealed class ClusterRepository(Func<CancellationToken, Task<DbConnection>> openConnection, string nowMilliseconds) : IClusterRepository
{
    private const string Columns =
        "node_id AS NodeId, instance_id AS InstanceId, started_at AS StartedAt, heartbeat_at AS HeartbeatAt, stopped_at AS StoppedAt, " +
        "xks_url AS XksUrl, management_url AS ManagementUrl, version AS Version, sealed AS Sealed, health AS Health, hsm_health AS HsmHealth";

    // The registration is taken over only from the same instance, a stopped one, or one whose heartbeat
    // is older than the liveness bound; otherwise the row stays and nothing is written.
    private string Join => $"""
        INSERT INTO cluster_nodes (node_id, instance_id, started_at, heartbeat_at, stopped_at, xks_url, management_url, version, sealed, health, hsm_health)
        VALUES (@NodeId, @InstanceId, {nowMilliseconds}, {nowMilliseconds}, NULL, @XksUrl, @ManagementUrl, @Version, @Sealed, @Health, @HsmHealth)
        ON CONFLICT (node_id) DO UPDATE SET instance_id = excluded.instance_id, started_at = excluded.started_at,
            heartbeat_at = excluded.heartbeat_at, stopped_at = NULL, xks_url = excluded.xks_url,
            management_url = excluded.management_url, version = excluded.version, sealed = excluded.sealed,
            health = excluded.health, hsm_health = excluded.hsm_health
        WHERE cluster_nodes.instance_id = excluded.instance_id OR cluster_nodes.stopped_at IS NOT NULL
            OR cluster_nodes.heartbeat_at <= excluded.heartbeat_at - @LivenessMs
        """;

    private string Heartbeat => $"""
        UPDATE cluster_nodes SET heartbeat_at = {nowMilliseconds}, xks_url = @XksUrl, management_url = @ManagementUrl,
            version = @Version, sealed = @Sealed, health = @Health, hsm_health = @HsmHealth
        WHERE node_id = @NodeId AND instance_id = @InstanceId
        """;

    private string Leave => $"UPDATE cluster_nodes SET stopped_at = {nowMilliseconds} WHERE node_id = @NodeId AND instance_id = @InstanceId";

    private string SelectNodes => $"SELECT {Columns}, {nowMilliseconds} AS NowMs FROM cluster_nodes";

    // The lease: one guarded UPDATE. The holder renews; anyone takes an expired lease.
    private string Lead => $"""
        UPDATE cluster_leader SET
            acquired_at = CASE WHEN holder_instance = @InstanceId THEN acquired_at ELSE {nowMilliseconds} END,
            holder_node = @NodeId, holder_instance = @InstanceId, expires_at = {nowMilliseconds} + @LeaseMs
        WHERE id = 1 AND (holder_instance = @InstanceId OR expires_at <= {nowMilliseconds})
        """;

    private const string Resign = "UPDATE cluster_leader SET expires_at = 0 WHERE id = 1 AND holder_instance = @InstanceId";

    private string SelectLeader => $"""
        SELECT holder_node AS NodeId, holder_instance AS InstanceId, acquired_at AS AcquiredAt, expires_at AS ExpiresAt
        FROM cluster_leader WHERE id = 1 AND holder_instance IS NOT NULL AND expires_at > {nowMilliseconds}
        """;

    public async Task<ClusterNode?> JoinAsync(ClusterNodeReport report, TimeSpan liveness, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var connection = await openConnection(ct);
        var parameters = Parameters(report);
        parameters.Add("LivenessMs", (long)liveness.TotalMilliseconds);
        if (await connection.ExecuteAsync(new CommandDefinition(Join, parameters, cancellationToken: ct)) == 1)
        {
            return null;
        }

        var holder = await connection.QuerySingleAsync<NodeRow>(new CommandDefinition(SelectNodes + " WHERE node_id = @NodeId", new { report.NodeId }, cancellationToken: ct));
        return holder.ToNode();
    }

    public async Task<bool> HeartbeatAsync(ClusterNodeReport report, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var connection = await openConnection(ct);
        return await connection.ExecuteAsync(new CommandDefinition(Heartbeat, Parameters(report), cancellationToken: ct)) == 1;
    }

    public async Task LeaveAsync(string nodeId, string instanceId, CancellationToken ct = default)
    {
        await using var connection = await openConnection(ct);
        await connection.ExecuteAsync(new CommandDefinition(Leave, new { NodeId = nodeId, InstanceId = instanceId }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<ClusterNode>> ListNodesAsync(CancellationToken ct = default)
    {
        await using var connection = await openConnection(ct);
        var rows = await connection.QueryAsync<NodeRow>(new CommandDefinition(SelectNodes, cancellationToken: ct));
        // Ordered here rather than in SQL: engines collate TEXT differently, ordinal order is the same everywhere.
        return [.. rows.Select(r => r.ToNode()).OrderBy(n => n.Report.NodeId, StringComparer.Ordinal)];
    }

    public async Task<bool> TryLeadAsync(string nodeId, string instanceId, TimeSpan lease, CancellationToken ct = default)
    {
        await using var connection = await openConnection(ct);
        return await connection.ExecuteAsync(new CommandDefinition(Lead,
            new { NodeId = nodeId, InstanceId = instanceId, LeaseMs = (long)lease.TotalMilliseconds }, cancellationToken: ct)) == 1;
    }

    public async Task ResignAsync(string instanceId, CancellationToken ct = default)
    {
        await using var connection = await openConnection(ct);
        await connection.ExecuteAsync(new CommandDefinition(Resign, new { InstanceId = instanceId }, cancellationToken: ct));
    }

    public async Task<ClusterLeader?> GetLeaderAsync(CancellationToken ct = default)
    {
        await using var connection = await openConnection(ct);
        var row = await connection.QuerySingleOrDefaultAsync<LeaderRow>(new CommandDefinition(SelectLeader, cancellationToken: ct));
        return row is null ? null : new ClusterLeader(row.NodeId, row.InstanceId, Time(row.AcquiredAt), Time(row.ExpiresAt));
    }

    private static DynamicParameters Parameters(ClusterNodeReport r)
    {
        var parameters = new DynamicParameters();
        parameters.AddDynamicParams(new { r.NodeId, r.InstanceId, r.XksUrl, r.ManagementUrl, r.Version, Sealed = r.Sealed ? 1 : 0, r.Health, r.HsmHealth });
        return parameters;
    }

    private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);

    private sealed class NodeRow
    {
        public string NodeId { get; set; } = "";
        public string InstanceId { get; set; } = "";
        public long StartedAt { get; set; }
        public long HeartbeatAt { get; set; }
        public long? StoppedAt { get; set; }
        public string XksUrl { get; set; } = "";
        public string ManagementUrl { get; set; } = "";
        public string Version { get; set; } = "";
        public long Sealed { get; set; }
        public string Health { get; set; } = "";
        public string? HsmHealth { get; set; }
        public long NowMs { get; set; }

        public ClusterNode ToNode() => new(
            new ClusterNodeReport(NodeId, InstanceId, XksUrl, ManagementUrl, Version, Sealed != 0, Health, HsmHealth),
            Time(StartedAt), Time(HeartbeatAt), TimeSpan.FromMilliseconds(Math.Max(0, NowMs - HeartbeatAt)), StoppedAt is not null);
    }

    private sealed class LeaderRow
    {
        public string NodeId { get; set; } = "";
        public string InstanceId { get; set; } = "";
        public long AcquiredAt { get; set; }
        public long ExpiresAt { get; set; }
    }
}
