using Coffer.Server.Cluster;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>The node's identity and how it works with the other nodes on its database
/// (<see cref="ClusterOptions"/>, docs/cluster.md): checked before the database opens, so a node that
/// could not take part in the cluster writes nothing.</summary>
internal sealed class ClusterOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var cluster = options.Cluster;
        var problems = new OptionsProblems();
        var nodeIdProblem = NodeIdentity.Problem(options.NodeId);
        problems.Require(nodeIdProblem is null, nodeIdProblem ?? "");
        problems.Require(cluster.StalenessSeconds is >= 2 and <= 60,
            $"Cluster:StalenessSeconds must be 2..60, not {cluster.StalenessSeconds}: the node confirms it is current every second, and a longer bound lets a node cut off from the database serve changes it missed for longer.");
        problems.Require(cluster.FullReloadSeconds is >= 1 and <= 3600,
            $"Cluster:FullReloadSeconds must be 1..3600, not {cluster.FullReloadSeconds}: the full reload is what retries a cache that failed to reload.");
        problems.Require(cluster.HeartbeatMilliseconds >= 50,
            $"Cluster:HeartbeatMilliseconds must be at least 50, not {cluster.HeartbeatMilliseconds}.");
        problems.Require(cluster.RenewMilliseconds >= 50,
            $"Cluster:RenewMilliseconds must be at least 50, not {cluster.RenewMilliseconds}.");
        problems.Require(cluster.LivenessMilliseconds >= 2L * cluster.HeartbeatMilliseconds,
            $"Cluster:LivenessMilliseconds must be at least twice Cluster:HeartbeatMilliseconds ({cluster.HeartbeatMilliseconds}), not {cluster.LivenessMilliseconds}, or a node that misses one heartbeat counts as gone.");
        problems.Require(cluster.LeaseMilliseconds >= 2L * cluster.RenewMilliseconds,
            $"Cluster:LeaseMilliseconds must be at least twice Cluster:RenewMilliseconds ({cluster.RenewMilliseconds}), not {cluster.LeaseMilliseconds}, or a leader that misses one renewal loses its lease.");
        return problems.Result;
    }
}
