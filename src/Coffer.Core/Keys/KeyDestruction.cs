namespace Coffer.Keys;

/// <summary>
/// Destruction of a whole key, next to the per-version state machine of
/// <see cref="KeyLifecycle"/>: a schedule with the same 7–30 day waiting period (AWS KMS's
/// ScheduleKeyDeletion), during which the key serves nothing and can be brought back by cancelling;
/// then, once the period is over, every version's material is destroyed and the key stays as a
/// tombstone. Pure: the caller stores the result and records it in the audit log.
/// </summary>
/// <remarks>
/// Unlike a version, a key may be scheduled while it still has an Active version: scheduling is the
/// decision to stop using the key, so there is nothing to deactivate first.
/// </remarks>
public static class KeyDestruction
{
    /// <summary>The end of the waiting period if <paramref name="key"/> may be scheduled at
    /// <paramref name="now"/>, or null with <paramref name="refusal"/> (a 409, or a 400 for the period).</summary>
    public static DateTimeOffset? TrySchedule(ManagedKey key, DateTimeOffset now, TimeSpan? waitingPeriod, out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(key);
        refusal = Unchangeable(key);
        if (refusal is not null)
        {
            return null;
        }

        if (key.IsPendingDestruction)
        {
            refusal = "The key is already scheduled for destruction; cancel that first to choose another date.";
            return null;
        }

        var wait = waitingPeriod ?? KeyLifecycle.DefaultWaitingPeriod;
        if (wait < KeyLifecycle.MinWaitingPeriod || wait > KeyLifecycle.MaxWaitingPeriod)
        {
            refusal = $"The waiting period before destruction must be {KeyLifecycle.MinWaitingPeriod.TotalDays:0} to {KeyLifecycle.MaxWaitingPeriod.TotalDays:0} days.";
            return null;
        }

        return now + wait;
    }

    /// <summary>Whether the key's scheduled destruction may be cancelled; <paramref name="refusal"/> says why not.</summary>
    public static bool CanCancel(ManagedKey key, out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(key);
        refusal = Unchangeable(key) ?? (key.IsPendingDestruction ? null : "The key is not scheduled for destruction.");
        return refusal is null;
    }

    /// <summary>Null if the key may still change (rotate, enable, versions); otherwise why not.</summary>
    public static string? Unchangeable(ManagedKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.IsDestroyed ? "The key is destroyed; nothing can change it any more." : null;
    }

    /// <summary>Null if the key's material may be used or changed (rotation, version moves); otherwise
    /// why not: destroyed, or waiting for destruction.</summary>
    public static string? Frozen(ManagedKey key) =>
        Unchangeable(key) ?? (key.IsPendingDestruction ? "The key is scheduled for destruction; cancel that first." : null);

    /// <summary>Whether the key's waiting period is over at <paramref name="now"/>.</summary>
    public static bool IsDue(ManagedKey key, DateTimeOffset now) =>
        key is { DestroyedAt: null, DestroysAt: { } due } && due <= now;

    /// <summary>
    /// Whether a version's material is to be destroyed at <paramref name="now"/>: its own waiting
    /// period is over, or its key's is. A version already Destroyed never is.
    /// </summary>
    public static bool IsVersionDue(ManagedKey key, VersionLifecycle version, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(version);
        return KeyLifecycle.TryApply(version, KeyVersionAction.Destroy, now, out _) is not null
            || (version.State != KeyVersionState.Destroyed && IsDue(key, now));
    }
}
