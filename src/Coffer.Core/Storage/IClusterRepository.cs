namespace Coffer.Storage;

/// <summary>
/// The cluster's shared state (docs/cluster.md): a registry of nodes with their heartbeats, and one
/// leader lease. Every time it stores or compares is taken from the database's clock inside the
/// statement, never from the calling node, so nodes whose clocks disagree still agree on who is live
/// and who leads. Thread-safe; each call is one statement, atomic on its own.
/// </summary>
public interface IClusterRepository
{
    /// <summary>
    /// Registers <paramref name="report"/>'s instance as the holder of its node id, unless another
    /// instance holds the id and is live: its heartbeat younger than <paramref name="liveness"/> and not
    /// stopped. One guarded upsert, so two processes starting with one id at once cannot both win.
    /// </summary>
    /// <returns>Null when registered; otherwise the live node that holds the id.</returns>
    Task<ClusterNode?> JoinAsync(ClusterNodeReport report, TimeSpan liveness, CancellationToken ct = default);

    /// <summary>Stores <paramref name="report"/> with a new heartbeat, if its instance still holds the id.</summary>
    /// <returns>False when another instance registered the id meanwhile (this one was taken for gone).</returns>
    Task<bool> HeartbeatAsync(ClusterNodeReport report, CancellationToken ct = default);

    /// <summary>Marks the instance stopped (a graceful stop), if it still holds its id.</summary>
    Task LeaveAsync(string nodeId, string instanceId, CancellationToken ct = default);

    /// <summary>Every registered node, by id, with its heartbeat's age on the database's clock.</summary>
    Task<IReadOnlyList<ClusterNode>> ListNodesAsync(CancellationToken ct = default);

    /// <summary>
    /// Takes or renews the lease for <paramref name="lease"/> from now: one UPDATE guarded by "the
    /// holder is this instance, or the lease has expired".
    /// </summary>
    /// <returns>True when this instance holds the lease now.</returns>
    Task<bool> TryLeadAsync(string nodeId, string instanceId, TimeSpan lease, CancellationToken ct = default);

    /// <summary>Ends the lease at once if this instance holds it, so another node need not wait for it to expire.</summary>
    Task ResignAsync(string instanceId, CancellationToken ct = default);

    /// <summary>The lease's holder while it has not expired; null when nobody leads.</summary>
    Task<ClusterLeader?> GetLeaderAsync(CancellationToken ct = default);
}

/// <summary>What a node says about itself in each heartbeat.</summary>
/// <param name="InstanceId">Random per process start: tells a restarted node from a second process with the same id.</param>
/// <param name="Health">The software backend's XKS health status (<c>ACTIVE</c>, <c>UNAVAILABLE</c>, ...).</param>
/// <param name="HsmHealth">The pkcs11 backend's, null without an HSM.</param>
public sealed record ClusterNodeReport(
    string NodeId, string InstanceId, string XksUrl, string ManagementUrl, string Version, bool Sealed, string Health, string? HsmHealth);

/// <summary>A registered node as stored, with ages measured on the database's clock.</summary>
/// <param name="HeartbeatAge">Time since its last heartbeat.</param>
/// <param name="Stopped">It stopped gracefully and has not started again.</param>
public sealed record ClusterNode(
    ClusterNodeReport Report, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, TimeSpan HeartbeatAge, bool Stopped)
{
    /// <summary>Whether the node counts as running: not stopped, and heard from within <paramref name="liveness"/>.</summary>
    public bool IsLive(TimeSpan liveness) => !Stopped && HeartbeatAge < liveness;
}

/// <summary>The current holder of the leader lease.</summary>
public sealed record ClusterLeader(string NodeId, string InstanceId, DateTimeOffset AcquiredAt, DateTimeOffset ExpiresAt);
