using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Cluster;
using Coffer.Server.KillSwitches;
using Coffer.Server.Seal;
using Coffer.Server.Xks;
using Coffer.Storage;
using Prometheus;

namespace Coffer.Server.Metrics;

/// <summary>
/// The node's Prometheus metrics (GET /metrics on the management listener): XKS calls by operation and
/// outcome, counted on the hot path with pre-made label sets (no allocation, no lookup); the rest —
/// audit head, each sink's backlog, engaged kill switches, sealed, the cluster — read when scraped. Each
/// server has its own registry, so nodes in one process never mix their numbers.
/// </summary>
/// <remarks>
/// The audit head and the sinks' cursors are the cluster's, read from the database at each scrape: every
/// node appends to the one chain and only the leader moves the cursors (docs/cluster.md), so this node's
/// own last record and its own view of a cursor may be far behind. Every node therefore reports the
/// same head and backlog. The cluster gauges come from the last heartbeat round, without a read.
/// </remarks>
internal sealed class CofferMetrics
{
    private static readonly string[] Operations = ["encrypt", "decrypt", "metadata", "health", "other"];
    private static readonly AuditOutcome[] Outcomes = [AuditOutcome.Ok, AuditOutcome.Denied, AuditOutcome.Error];

    private readonly Counter.Child[,] _calls;

    public CofferMetrics(SealManager seal, ICofferStorage storage, AuditLog audit, AuditForwarders sinks, KillSwitchBoard killSwitches, ClusterMembership cluster)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        var calls = factory.CreateCounter("coffer_xks_requests_total", "XKS calls answered, by operation and outcome.", "operation", "outcome");
        _calls = new Counter.Child[Operations.Length, Outcomes.Length];
        for (var o = 0; o < Operations.Length; o++)
        {
            for (var r = 0; r < Outcomes.Length; r++)
            {
                _calls[o, r] = calls.WithLabels(Operations[o], AuditOutcomes.ToText(Outcomes[r]));
            }
        }

        var head = factory.CreateGauge("coffer_audit_head_sequence", "Sequence number of the last audit record in the cluster's chain.");
        var backlog = factory.CreateGauge("coffer_audit_sink_backlog", "Audit records written but not yet delivered to a sink.", "sink");
        var engaged = factory.CreateGauge("coffer_kill_switches_engaged", "Kill switches engaged now.");
        var isSealed = factory.CreateGauge("coffer_sealed", "1 while this node is sealed (no key material in memory).");
        var batches = factory.CreateCounter("coffer_audit_batches_total", "Audit batches committed (one transaction and fsync each).");
        var batched = factory.CreateCounter("coffer_audit_batched_records_total", "Audit records committed in batches; per batch, the group-commit size.");
        var commit = factory.CreateCounter("coffer_audit_commit_seconds_total", "Time spent writing and committing audit batches; per batch, what every audited call waits for.");
        var nodes = factory.CreateGauge("coffer_cluster_nodes", "Live nodes of the cluster (this one included), as of this node's last heartbeat round.");
        var leader = factory.CreateGauge("coffer_cluster_leader", "1 while this node is the cluster's leader (runs the scheduled work, alerts and sinks).");
        Registry.AddBeforeCollectCallback(async ct =>
        {
            var sequence = (await storage.Audit.GetHeadAsync(ct)).Sequence;
            head.Set(sequence);
            foreach (var sink in sinks.Statuses)
            {
                backlog.WithLabels(sink.Name).Set(Math.Max(0, sequence - await AuditForwarder.LoadCursorAsync(storage, sink.Name, ct)));
            }

            nodes.Set(1 + cluster.View.LiveOthers.Count());
            leader.Set(cluster.Leadership.IsLeader ? 1 : 0);

            var totals = audit.BatchTotals;
            batches.IncTo(totals.Batches);
            batched.IncTo(totals.Records);
            commit.IncTo(totals.CommitTime.TotalSeconds);
            engaged.Set(killSwitches.Current.Engaged.Count);
            isSealed.Set(seal.IsSealed ? 1 : 0);
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Counts one answered XKS call.</summary>
    public void CountCall(XksOperation operation, AuditOutcome outcome)
    {
        var o = operation switch
        {
            XksOperation.Encrypt => 0,
            XksOperation.Decrypt => 1,
            XksOperation.GetKeyMetadata => 2,
            XksOperation.GetHealthStatus => 3,
            _ => 4,
        };
        var r = outcome switch { AuditOutcome.Ok => 0, AuditOutcome.Denied => 1, _ => 2 };
        _calls[o, r].Inc();
    }
}
