using Coffer.Audit;
using Coffer.Storage;

namespace Coffer.Server.Metrics;

/// <summary>
/// This node's XKS calls by outcome and answer, for the console's Overview (docs/console.md, "Traffic").
/// The hot path adds one to a running total (<see cref="Count"/>: an interlocked add, no allocation);
/// about once a minute, and when the Overview asks, what was answered since the last write is added to
/// the database's row of that minute, so every node of a cluster shows the calls of all.
/// </summary>
/// <param name="answers">The answers counted (success and the XKS error names), by index.</param>
internal sealed class XksTraffic(IReadOnlyList<string> answers)
{
    /// <summary>How long the database keeps the per-minute counts.</summary>
    public static readonly TimeSpan Kept = TimeSpan.FromDays(1);

    private static readonly AuditOutcome[] Outcomes = [AuditOutcome.Ok, AuditOutcome.Denied, AuditOutcome.Error];

    private readonly long[,] _totals = new long[Outcomes.Length, answers.Count];
    private readonly long[,] _written = new long[Outcomes.Length, answers.Count];
    private readonly Lock _claim = new();

    /// <summary>One answered call: its audit outcome and its answer's index in the list given at construction.</summary>
    public void Count(AuditOutcome outcome, int answer) =>
        Interlocked.Increment(ref _totals[outcome switch { AuditOutcome.Ok => 0, AuditOutcome.Denied => 1, _ => 2 }, answer]);

    /// <summary>Adds what was answered since the last write to the rows of the minute <paramref name="now"/>
    /// falls in. Totals only grow, so a call counted while this runs is written the next time, never
    /// lost; two writes at once each take their own calls; a failed write gives its calls back for the next.</summary>
    public async Task WriteAsync(ITrafficRepository traffic, string nodeId, DateTimeOffset now, CancellationToken ct)
    {
        var claimed = new long[Outcomes.Length, answers.Count];
        var counts = new List<TrafficCount>();
        var minute = MinuteOf(now);
        lock (_claim)
        {
            for (var o = 0; o < Outcomes.Length; o++)
            {
                for (var a = 0; a < answers.Count; a++)
                {
                    claimed[o, a] = Interlocked.Read(ref _totals[o, a]) - _written[o, a];
                    _written[o, a] += claimed[o, a];
                    if (claimed[o, a] > 0)
                    {
                        counts.Add(new TrafficCount(minute, AuditOutcomes.ToText(Outcomes[o]), answers[a], claimed[o, a]));
                    }
                }
            }
        }

        // No call since the last write: nothing to add, and nothing older to delete that the last write left.
        if (counts.Count == 0)
        {
            return;
        }

        try
        {
            await traffic.AddAsync(nodeId, minute, counts, MinuteOf(now - Kept), ct);
        }
        catch
        {
            lock (_claim)
            {
                for (var o = 0; o < Outcomes.Length; o++)
                {
                    for (var a = 0; a < answers.Count; a++)
                    {
                        _written[o, a] -= claimed[o, a];
                    }
                }
            }

            throw;
        }
    }

    /// <summary>Unix time in whole minutes.</summary>
    public static long MinuteOf(DateTimeOffset time) => time.ToUnixTimeSeconds() / 60;
}
