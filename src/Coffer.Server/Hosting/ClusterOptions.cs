namespace Coffer.Server.Hosting;

/// <summary>How a node keeps its in-memory state in step with the database it shares (docs/architecture.md, "Changes").</summary>
public sealed class ClusterOptions
{
    /// <summary>Seconds between full reloads of every cache (key ring, kill switches, access rules): the
    /// safety net for a change whose notification was lost, or whose reload failed. 1..3600.</summary>
    public int FullReloadSeconds { get; set; } = 30;
}
