using Prometheus;

namespace Coffer.Server.Metrics;

/// <summary>
/// The node's Prometheus metrics (GET /metrics on the management listener, listed in
/// docs/observability.md): XKS calls, counted and timed on the hot path (<see cref="XksCallMetrics"/>);
/// the rest read from <see cref="NodeReadings"/> when scraped. Each server has its own registry, so nodes
/// in one process never mix their numbers.
/// </summary>
internal sealed class CofferMetrics
{
    /// <param name="exportedDuration">The OTLP meter's XKS duration histogram, null when OTLP export is off.</param>
    public CofferMetrics(NodeReadings readings, System.Diagnostics.Metrics.Histogram<double>? exportedDuration)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        Calls = new XksCallMetrics(factory, exportedDuration);
        var head = factory.CreateGauge("coffer_audit_head_sequence", "Sequence number of the last audit record in the cluster's chain.");
        var backlog = factory.CreateGauge("coffer_audit_sink_backlog", "Audit records written but not yet delivered to a sink.", "sink");
        var engaged = factory.CreateGauge("coffer_kill_switches_engaged", "Kill switches engaged now.");
        var isSealed = factory.CreateGauge("coffer_sealed", "1 while this node is sealed (no key material in memory).");
        var batches = factory.CreateCounter("coffer_audit_batches_total", "Audit batches committed (one transaction and fsync each).");
        var batched = factory.CreateCounter("coffer_audit_batched_records_total", "Audit records committed in batches; per batch, the group-commit size.");
        var commit = factory.CreateCounter("coffer_audit_commit_seconds_total", "Time spent writing and committing audit batches; per batch, what every audited call waits for.");
        var nodes = factory.CreateGauge("coffer_cluster_nodes", "Live nodes of the cluster (this one included), as of this node's last heartbeat round.");
        var leader = factory.CreateGauge("coffer_cluster_leader", "1 while this node is the cluster's leader (runs the scheduled work, alerts and sinks).");
        var expiry = factory.CreateGauge("coffer_key_soonest_expiry_timestamp_seconds",
            "When the first encrypting version of an enabled key expires (stops encrypting), in Unix seconds; 0 when none has an expiry.");
        var budget = factory.CreateGauge("coffer_key_encryption_budget_used_ratio",
            "Largest share (0..1) of Xks.MaxEncryptionsPerKeyVersion that an encrypting key version has reserved, as of this node's last reservation.");
        Registry.AddBeforeCollectCallback(async ct =>
        {
            var now = await readings.ReadAsync(ct);
            head.Set(now.AuditHead);
            foreach (var (sink, count) in now.SinkBacklogs)
            {
                backlog.WithLabels(sink).Set(count);
            }

            batches.IncTo(now.AuditBatches.Batches);
            batched.IncTo(now.AuditBatches.Records);
            commit.IncTo(now.AuditBatches.CommitTime.TotalSeconds);
            engaged.Set(now.KillSwitchesEngaged);
            isSealed.Set(now.Sealed ? 1 : 0);
            nodes.Set(now.ClusterNodes);
            leader.Set(now.Leader ? 1 : 0);
            expiry.Set(now.SoonestKeyExpiry?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            budget.Set(now.LargestBudgetShare);
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>The XKS hot path's instruments.</summary>
    public XksCallMetrics Calls { get; }
}
