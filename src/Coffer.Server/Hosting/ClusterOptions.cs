namespace Coffer.Server.Hosting;

/// <summary>How a node keeps its in-memory state in step with the database it shares (docs/architecture.md, "Changes").</summary>
public sealed class ClusterOptions
{
    /// <summary>Seconds between full reloads of every cache (key ring, kill switches, access rules): the
    /// safety net for a change whose notification was lost, or whose reload failed. 1..3600.</summary>
    public int FullReloadSeconds { get; set; } = 30;

    /// <summary>On a shared database: seconds a node goes on serving key operations without confirming
    /// that it has every other node's changes; after that it refuses them until it has (docs/cluster.md,
    /// "Changes between nodes and staleness"). 2..60.</summary>
    public int StalenessSeconds { get; set; } = 5;

    internal void Validate()
    {
        if (StalenessSeconds is < 2 or > 60)
        {
            throw new InvalidOperationException("Cluster.StalenessSeconds must be 2..60: the node confirms it is current every second, and a longer bound lets a node cut off from the database serve changes it missed for longer.");
        }

        if (FullReloadSeconds is < 1 or > 3600)
        {
            throw new InvalidOperationException("Cluster.FullReloadSeconds must be 1..3600: the full reload is what retries a cache that failed to reload.");
        }
    }
}
