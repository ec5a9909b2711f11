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

    /// <summary>How often the node writes its heartbeat and reads the fleet.</summary>
    public int HeartbeatMilliseconds { get; set; } = 1000;

    /// <summary>A node whose last heartbeat is older than this counts as gone.</summary>
    public int LivenessMilliseconds { get; set; } = 5000;

    /// <summary>How long a leader's lease lasts from each renewal, on the database's clock.</summary>
    public int LeaseMilliseconds { get; set; } = 10000;

    /// <summary>How often the leader renews its lease.</summary>
    public int RenewMilliseconds { get; set; } = 3000;

    internal TimeSpan Heartbeat => TimeSpan.FromMilliseconds(HeartbeatMilliseconds);

    internal TimeSpan Liveness => TimeSpan.FromMilliseconds(LivenessMilliseconds);

    internal TimeSpan Lease => TimeSpan.FromMilliseconds(LeaseMilliseconds);

    internal TimeSpan Renew => TimeSpan.FromMilliseconds(RenewMilliseconds);

    /// <summary>The leader stops its scheduled work this long before its lease would end by its own
    /// clock, so work in flight sees the end of its term before another node can begin one.</summary>
    internal TimeSpan StepDownMargin => Lease / 5;

    /// <exception cref="InvalidOperationException">A setting is out of range, or the timings cannot work together.</exception>
    internal void Validate()
    {
        if (FullReloadSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("Cluster.FullReloadSeconds must be 1..3600: the full reload is what retries a cache that failed to reload.");
        }

        if (HeartbeatMilliseconds < 50 || RenewMilliseconds < 50)
        {
            throw new InvalidOperationException("Cluster.HeartbeatMilliseconds and Cluster.RenewMilliseconds must be at least 50.");
        }

        if (LivenessMilliseconds < 2 * HeartbeatMilliseconds)
        {
            throw new InvalidOperationException("Cluster.LivenessMilliseconds must be at least twice Cluster.HeartbeatMilliseconds, or a node that misses one heartbeat counts as gone.");
        }

        if (LeaseMilliseconds < 2 * RenewMilliseconds)
        {
            throw new InvalidOperationException("Cluster.LeaseMilliseconds must be at least twice Cluster.RenewMilliseconds, or a leader that misses one renewal loses its lease.");
        }
    }
}
