namespace Coffer.Server.Changes;

/// <summary>
/// Whether this node may trust its in-memory copies of the shared database (docs/cluster.md, "Changes
/// between nodes and staleness"). A node on a shared database is current only while its change
/// listener has confirmed, within the staleness bound, that it received and applied every change
/// committed before a round trip began; otherwise its key ring, kill switches and rules may miss a
/// change made on another node, and key operations fail closed. A single node (SQLite) publishes every
/// change itself, so it is always current.
/// </summary>
/// <remarks>
/// <see cref="IsCurrent"/> is on the XKS hot path: one volatile read and one compare with a monotonic
/// timestamp, no lock, no allocation. The deadline is written by the listener alone.
/// </remarks>
internal sealed class ClusterFreshness
{
    private readonly TimeProvider? _clock;
    private readonly long _boundTicks;
    private long _currentUntil;

    private ClusterFreshness(TimeProvider? clock, TimeSpan bound)
    {
        _clock = clock;
        _boundTicks = clock is null ? 0 : (long)(bound.TotalSeconds * clock.TimestampFrequency);
        _currentUntil = clock is null ? long.MaxValue : long.MinValue;
    }

    /// <summary>A single node: nothing can change behind its back.</summary>
    public static ClusterFreshness Always { get; } = new(null, TimeSpan.Zero);

    /// <summary>A node on a shared database, not current until its listener first confirms.</summary>
    /// <param name="clock">Its monotonic timestamps (<see cref="TimeProvider.GetTimestamp"/>) measure the bound.</param>
    public static ClusterFreshness Bounded(TimeSpan bound, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(bound, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(clock);
        return new ClusterFreshness(clock, bound);
    }

    /// <summary>Every change committed before the last <see cref="Confirm"/>ed timestamp, less than the
    /// bound ago, is in force here.</summary>
    public bool IsCurrent => _clock is null || _clock.GetTimestamp() < Volatile.Read(ref _currentUntil);

    /// <summary>Every change committed before <paramref name="startedAt"/> (a timestamp of the clock this
    /// was made with) is applied: the node is current until the bound has passed since then.</summary>
    public void Confirm(long startedAt)
    {
        if (_clock is not null)
        {
            Volatile.Write(ref _currentUntil, startedAt + _boundTicks);
        }
    }

    /// <summary>The listener lost its connection or could not apply a change: not current from now on.</summary>
    public void Lose()
    {
        if (_clock is not null)
        {
            Volatile.Write(ref _currentUntil, long.MinValue);
        }
    }
}
