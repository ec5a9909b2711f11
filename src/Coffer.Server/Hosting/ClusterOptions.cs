namespace Coffer.Server.Hosting;

/// <summary>
/// How nodes that share one database work together: how a node keeps its in-memory state in step with
/// it (docs/architecture.md, "Changes"), and the timing of the node registry and the leader lease
/// (docs/cluster.md). The defaults replace a dead leader within <see cref="LeaseMilliseconds"/> +
/// <see cref="HeartbeatMilliseconds"/>, 11 s; tests use shorter ones.
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>Seconds between full reloads of every cache (key ring, kill switches, access rules): the
    /// safety net for a change whose notification was lost, or whose reload failed. 1..3600.</summary>
    public int FullReloadSeconds { get; set; } = 30;

    /// <summary>On a shared database: seconds a node goes on serving key operations without confirming
    /// that it has every other node's changes; after that it refuses them until it has (docs/cluster.md,
    /// "Changes between nodes and staleness"). 2..60.</summary>
    public int StalenessSeconds { get; set; } = 5;

    /// <summary>How often the node writes its heartbeat and reads the fleet. At least 50.</summary>
    public int HeartbeatMilliseconds { get; set; } = 1000;

    /// <summary>A node whose last heartbeat is older than this counts as gone. At least twice <see cref="HeartbeatMilliseconds"/>.</summary>
    public int LivenessMilliseconds { get; set; } = 5000;

    /// <summary>How long a leader's lease lasts from each renewal, on the database's clock. At least twice <see cref="RenewMilliseconds"/>.</summary>
    public int LeaseMilliseconds { get; set; } = 10000;

    /// <summary>How often the leader renews its lease. At least 50.</summary>
    public int RenewMilliseconds { get; set; } = 3000;

    internal TimeSpan Heartbeat => TimeSpan.FromMilliseconds(HeartbeatMilliseconds);

    internal TimeSpan Liveness => TimeSpan.FromMilliseconds(LivenessMilliseconds);

    internal TimeSpan Lease => TimeSpan.FromMilliseconds(LeaseMilliseconds);

    internal TimeSpan Renew => TimeSpan.FromMilliseconds(RenewMilliseconds);

    /// <summary>The leader stops its scheduled work this long before its lease would end by its own
    /// clock, so work in flight sees the end of its term before another node can begin one.</summary>
    internal TimeSpan StepDownMargin => Lease / 5;
}
