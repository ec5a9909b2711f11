using System.Collections.Frozen;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Xks;
using Prometheus;

namespace Coffer.Server.Metrics;

/// <summary>
/// What the XKS hot path records of each answered call: <c>coffer_xks_requests_total</c> by audit outcome
/// and <c>coffer_xks_request_duration_seconds</c> by XKS outcome (success or the error name). Every label
/// set is resolved here, once, so a call costs two array reads and the instruments' own interlocked adds:
/// no lookup, no allocation (docs/design.md, "Performance budget"). When OTLP export is on
/// (docs/observability.md), the duration also goes to the OpenTelemetry histogram, and the request's
/// span gets the operation and outcome as attributes, all constant strings.
/// </summary>
internal sealed class XksCallMetrics
{
    /// <summary>Upper bounds in seconds. AWS KMS gives an XKS call 250 ms, so the buckets are fine below
    /// it (a healthy call takes about a millisecond, an HSM or a slow commit tens), 0.25 is a bound of its
    /// own, so the share of calls over the timeout is exact, and 1 s catches what is far past it.</summary>
    internal static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5, 1];

    /// <summary>The duration's outcome of an answered call.</summary>
    internal const string Success = "success";

    private static readonly string[] Operations = ["encrypt", "decrypt", "metadata", "health", "other"];
    private static readonly AuditOutcome[] AuditOutcomesCounted = [AuditOutcome.Ok, AuditOutcome.Denied, AuditOutcome.Error];

    /// <summary>Success, every XKS error name, the 405 a GET gets, and "other" for a name this list
    /// lacks (none today), so a new error name can never fail a call here.</summary>
    private static readonly string[] Outcomes = [Success, .. Enum.GetNames<XksErrorName>(), "MethodNotAllowed", "other"];

    private static readonly FrozenDictionary<string, int> OutcomeIndex =
        Outcomes.Select((name, i) => (name, i)).ToFrozenDictionary(x => x.name, x => x.i, StringComparer.Ordinal);

    private readonly Counter.Child[,] _calls;
    private readonly Histogram.Child[,] _durations;
    private readonly Histogram<double>? _exported;

    /// <summary>This node's calls by audit outcome and answer, for the console's Overview.</summary>
    public XksTraffic Traffic { get; } = new(Outcomes);

    /// <param name="factory">The node's Prometheus registry.</param>
    /// <param name="exported">The OTLP meter's duration histogram; null when OTLP export is off, which then costs one null check.</param>
    public XksCallMetrics(IMetricFactory factory, Histogram<double>? exported)
    {
        _exported = exported;
        // Exemplars are not in the text format /metrics serves; with tracing on, taking one per call
        // would allocate on the hot path.
        var calls = factory.CreateCounter("coffer_xks_requests_total", "XKS calls answered, by operation and outcome.", ["operation", "outcome"],
            new CounterConfiguration { ExemplarBehavior = ExemplarBehavior.NoExemplars() });
        var durations = factory.CreateHistogram("coffer_xks_request_duration_seconds",
            "XKS calls answered, by operation and outcome (success or the XKS error name): time from the request's arrival to its answer.",
            ["operation", "outcome"],
            new HistogramConfiguration
            {
                Buckets = DurationBuckets,
                // A series appears with its first call: 5 operations by 15 outcomes would otherwise be
                // 75 empty series of 16 lines each in every scrape.
                SuppressInitialValue = true,
                ExemplarBehavior = ExemplarBehavior.NoExemplars(),
            });
        _calls = new Counter.Child[Operations.Length, AuditOutcomesCounted.Length];
        _durations = new Histogram.Child[Operations.Length, Outcomes.Length];
        for (var o = 0; o < Operations.Length; o++)
        {
            for (var r = 0; r < AuditOutcomesCounted.Length; r++)
            {
                _calls[o, r] = calls.WithLabels(Operations[o], AuditOutcomes.ToText(AuditOutcomesCounted[r]));
            }

            for (var r = 0; r < Outcomes.Length; r++)
            {
                _durations[o, r] = durations.WithLabels(Operations[o], Outcomes[r]);
            }
        }
    }

    /// <summary>Records one answered XKS call.</summary>
    /// <param name="errorName">The XKS error name it was answered with; null for success.</param>
    public void Record(XksOperation operation, AuditOutcome outcome, string? errorName, TimeSpan elapsed)
    {
        var o = operation switch
        {
            XksOperation.Encrypt => 0,
            XksOperation.Decrypt => 1,
            XksOperation.GetKeyMetadata => 2,
            XksOperation.GetHealthStatus => 3,
            _ => 4,
        };
        _calls[o, outcome switch { AuditOutcome.Ok => 0, AuditOutcome.Denied => 1, _ => 2 }].Inc();

        var r = outcome == AuditOutcome.Ok ? 0 : OutcomeIndex.GetValueOrDefault(errorName ?? "", Outcomes.Length - 1);
        var seconds = elapsed.TotalSeconds;
        _durations[o, r].Observe(seconds);
        Traffic.Count(outcome, r);
        _exported?.Record(seconds, new("operation", Operations[o]), new("outcome", Outcomes[r]));
        if (Activity.Current is { IsAllDataRequested: true } span)
        {
            span.SetTag("coffer.xks.operation", Operations[o]);
            span.SetTag("coffer.xks.outcome", Outcomes[r]);
        }
    }
}
