using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.KillSwitches;
using Coffer.Server.Seal;
using Coffer.Server.Xks;
using Prometheus;

namespace Coffer.Server.Metrics;

/// <summary>
/// The node's Prometheus metrics (GET /metrics on the management listener): XKS calls by operation and
/// outcome, counted on the hot path with pre-made label sets (no allocation, no lookup); the rest —
/// audit head, each sink's backlog, engaged kill switches, sealed — read when scraped. Each server has
/// its own registry, so nodes in one process never mix their numbers.
/// </summary>
internal sealed class CofferMetrics
{
    private static readonly string[] Operations = ["encrypt", "decrypt", "metadata", "health", "other"];
    private static readonly AuditOutcome[] Outcomes = [AuditOutcome.Ok, AuditOutcome.Denied, AuditOutcome.Error];

    private readonly Counter.Child[,] _calls;

    public CofferMetrics(SealManager seal, AuditLog audit, AuditForwarders sinks, KillSwitchBoard killSwitches)
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

        var head = factory.CreateGauge("coffer_audit_head_sequence", "Sequence number of the last audit record this node wrote.");
        var backlog = factory.CreateGauge("coffer_audit_sink_backlog", "Audit records written but not yet delivered to a sink.", "sink");
        var engaged = factory.CreateGauge("coffer_kill_switches_engaged", "Kill switches engaged now.");
        var isSealed = factory.CreateGauge("coffer_sealed", "1 while this node is sealed (no key material in memory).");
        var batches = factory.CreateCounter("coffer_audit_batches_total", "Audit batches committed (one transaction and fsync each).");
        var batched = factory.CreateCounter("coffer_audit_batched_records_total", "Audit records committed in batches; per batch, the group-commit size.");
        var commit = factory.CreateCounter("coffer_audit_commit_seconds_total", "Time spent writing and committing audit batches; per batch, what every audited call waits for.");
        Registry.AddBeforeCollectCallback(() =>
        {
            var sequence = audit.Head.Sequence;
            head.Set(sequence);
            foreach (var sink in sinks.Statuses)
            {
                backlog.WithLabels(sink.Name).Set(Math.Max(0, sequence - sink.Cursor));
            }

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
