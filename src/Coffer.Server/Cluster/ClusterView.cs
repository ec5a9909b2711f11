using Coffer.Storage;

namespace Coffer.Server.Cluster;

/// <summary>The fleet as one node last read it: what XKS health and status answer from, without a
/// database read on their path.</summary>
/// <param name="Nodes">Every registered node, live or gone.</param>
/// <param name="Leader">The lease's holder, null when nobody leads.</param>
/// <param name="Self">What this node last reported about itself.</param>
internal sealed record ClusterView(IReadOnlyList<ClusterNode> Nodes, ClusterLeader? Leader, TimeSpan Liveness, ClusterNodeReport Self)
{
    /// <summary>Before the first heartbeat round: this node alone.</summary>
    public static ClusterView Alone(ClusterNodeReport self, TimeSpan liveness) => new([], null, liveness, self);

    /// <summary>The other nodes whose heartbeat is fresh, by node id. This node is live by definition
    /// while it answers, whatever its last heartbeat says.</summary>
    public IEnumerable<ClusterNodeReport> LiveOthers =>
        Nodes.Where(n => n.Report.NodeId != Self.NodeId && n.IsLive(Liveness)).Select(n => n.Report);
}
