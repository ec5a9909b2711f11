namespace Coffer.Server.Cluster;

/// <summary>
/// Timing of the node registry and the leader lease (docs/cluster.md). The defaults replace a dead
/// leader within <see cref="LeaseMilliseconds"/> + <see cref="HeartbeatMilliseconds"/>, 11 s; tests use
/// shorter ones.
/// </summary>
public sealed class ClusterOptions
{
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

    /// <exception cref="InvalidOperationException">The timings cannot work together.</exception>
    internal void Validate()
    {
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
