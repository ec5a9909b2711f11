namespace Coffer.Keys;

/// <summary>
/// A rotation with an activation time (<c>key rotate --activates-at</c>): the new version is current
/// but PreActive until then, and the version it replaces — still Active, with that time as its
/// expiry — encrypts until then, so the two hand over at one instant. The XKS path and the
/// management view both pick the encrypting version here.
/// </summary>
public static class Handover
{
    /// <summary>The version that encrypts while the current one waits for its activation: the newest
    /// older Active one; 0 when there is none or the current version is not PreActive.</summary>
    public static int PredecessorOf(int currentVersion, IReadOnlyDictionary<int, VersionLifecycle> lifecycles)
    {
        ArgumentNullException.ThrowIfNull(lifecycles);
        if (!lifecycles.TryGetValue(currentVersion, out var current) || current.State != KeyVersionState.PreActive)
        {
            return 0;
        }

        return lifecycles.Where(l => l.Key < currentVersion && l.Value.State == KeyVersionState.Active).Select(l => l.Key).DefaultIfEmpty().Max();
    }

    /// <summary>The version that encrypts at <paramref name="now"/>: the current one if it may, else its
    /// predecessor if that may; null when none may.</summary>
    public static int? EncryptingVersionAt(int currentVersion, IReadOnlyDictionary<int, VersionLifecycle> lifecycles, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lifecycles);
        if (lifecycles.TryGetValue(currentVersion, out var current) && current.CanEncryptAt(now))
        {
            return currentVersion;
        }

        var predecessor = PredecessorOf(currentVersion, lifecycles);
        return lifecycles.TryGetValue(predecessor, out var older) && older.CanEncryptAt(now) ? predecessor : null;
    }
}
