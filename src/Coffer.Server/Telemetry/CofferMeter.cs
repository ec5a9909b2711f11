using System.Diagnostics;
using System.Diagnostics.Metrics;
using Coffer.Server.Metrics;

namespace Coffer.Server.Telemetry;

/// <summary>
/// The node's metrics as OpenTelemetry instruments, made only when OTLP export is on
/// (docs/observability.md, "OTLP"). /metrics stays prometheus-net's: its hot-path children take no
/// lookup or allocation, which prometheus-net's adapter for .NET meters would (it sorts and copies each
/// measurement's tags), and that adapter would also change the counters' types and help texts.
/// </summary>
/// <remarks>
/// The names are /metrics' names, counters without <c>_total</c>, which a collector's conversion to
/// Prometheus adds back, so dashboards and docs/prometheus/coffer-alerts.yml read the same series from
/// either path. The XKS duration is recorded on the hot path (<see cref="XksCallMetrics"/>; its count is
/// the calls' count); the rest is observed at each export from one <see cref="NodeReadings"/> read.
/// </remarks>
internal sealed class CofferMeter : IDisposable
{
    public const string Name = "Coffer";

    /// <summary>Observable instruments are asked one after another; one read serves them all.</summary>
    private static readonly TimeSpan ReadingReuse = TimeSpan.FromSeconds(1);

    private readonly Meter _meter;
    private readonly NodeReadings _readings;
    private readonly Lock _gate = new();
    private NodeReading? _last;
    private long _lastAt;

    public CofferMeter(NodeReadings readings, string nodeId)
    {
        _readings = readings;
        _meter = new Meter(new MeterOptions(Name) { Tags = [new("coffer.node", nodeId)] });
        XksDuration = _meter.CreateHistogram("coffer_xks_request_duration_seconds", "s",
            "XKS calls answered, by operation and outcome (success or the XKS error name): time from the request's arrival to its answer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = XksCallMetrics.DurationBuckets });
        _meter.CreateObservableGauge("coffer_audit_head_sequence", () => Read().AuditHead, description: "Sequence number of the last audit record in the cluster's chain.");
        _meter.CreateObservableGauge("coffer_audit_sink_backlog", () => Read().SinkBacklogs.Select(s => new Measurement<long>(s.Backlog, new KeyValuePair<string, object?>("sink", s.Sink))),
            description: "Audit records written but not yet delivered to a sink.");
        _meter.CreateObservableCounter("coffer_audit_batches", () => Read().AuditBatches.Batches, description: "Audit batches committed (one transaction and fsync each).");
        _meter.CreateObservableCounter("coffer_audit_batched_records", () => Read().AuditBatches.Records, description: "Audit records committed in batches.");
        _meter.CreateObservableCounter("coffer_audit_commit_seconds", () => Read().AuditBatches.CommitTime.TotalSeconds, "s", "Time spent writing and committing audit batches.");
        _meter.CreateObservableGauge("coffer_kill_switches_engaged", () => Read().KillSwitchesEngaged, description: "Kill switches engaged now.");
        _meter.CreateObservableGauge("coffer_sealed", () => Read().Sealed ? 1 : 0, description: "1 while this node is sealed.");
        _meter.CreateObservableGauge("coffer_cluster_nodes", () => Read().ClusterNodes, description: "Live nodes of the cluster, this one included.");
        _meter.CreateObservableGauge("coffer_cluster_leader", () => Read().Leader ? 1 : 0, description: "1 while this node is the cluster's leader.");
        _meter.CreateObservableGauge("coffer_key_soonest_expiry_timestamp_seconds",
            () => Read().SoonestKeyExpiry is { } expiry ? [new Measurement<double>(expiry.ToUnixTimeMilliseconds() / 1000.0)] : Array.Empty<Measurement<double>>(), "s",
            "When the first encrypting version of an enabled key expires, in Unix seconds; no value when none has an expiry.");
        _meter.CreateObservableGauge("coffer_key_encryption_budget_used_ratio", () => Read().LargestBudgetShare,
            description: "Largest share (0..1) of its encryptions that an encrypting key version has reserved.");
    }

    /// <summary>Recorded by <see cref="XksCallMetrics"/> next to its Prometheus histogram.</summary>
    public Histogram<double> XksDuration { get; }

    public void Dispose() => _meter.Dispose();

    /// <summary>On the exporter's own thread, never a request's: a database read (the audit head and
    /// the sinks' cursors) may wait there, bounded so a lost database cannot hold the export.</summary>
    private NodeReading Read()
    {
        lock (_gate)
        {
            if (_last is null || Stopwatch.GetElapsedTime(_lastAt) > ReadingReuse)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                _last = _readings.ReadAsync(timeout.Token).GetAwaiter().GetResult();
                _lastAt = Stopwatch.GetTimestamp();
            }

            return _last;
        }
    }
}
