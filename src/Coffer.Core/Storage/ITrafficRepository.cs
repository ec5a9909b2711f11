namespace Coffer.Storage;

/// <summary>XKS calls per minute by node and outcome (docs/console.md, "Traffic").</summary>
public interface ITrafficRepository
{
    /// <summary>Adds <paramref name="counts"/> to this node's rows of that minute, and deletes every row
    /// older than <paramref name="keepFrom"/>; one transaction.</summary>
    Task AddAsync(string nodeId, long minute, IReadOnlyList<TrafficCount> counts, long keepFrom, CancellationToken ct = default);

    /// <summary>The calls of every node summed by minute, outcome and answer, from <paramref name="fromMinute"/> on, in minute order.</summary>
    Task<IReadOnlyList<TrafficCount>> ListAsync(long fromMinute, CancellationToken ct = default);
}

/// <param name="Minute">Unix time in minutes (ignored by <see cref="ITrafficRepository.AddAsync"/>, which takes its own).</param>
/// <param name="Outcome">ok, denied or error, as the calls' audit records say.</param>
/// <param name="Answer">success, or the XKS error name the calls were answered with.</param>
public sealed record TrafficCount(long Minute, string Outcome, string Answer, long Calls);
