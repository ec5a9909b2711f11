namespace Coffer.Keys;

/// <summary>
/// Setting or clearing a version's activation and expiry (deactivation) dates. Pure, like
/// <see cref="KeyLifecycle"/>: the caller stores the result with a compare-and-set.
/// </summary>
public static class VersionDates
{
    /// <summary>Whether the dates make sense on their own (a 400 otherwise): in the future, and an
    /// expiry after the activation.</summary>
    public static string? Problem(DateTimeOffset? activatesAt, DateTimeOffset? deactivatesAt, DateTimeOffset now)
    {
        if (activatesAt <= now || deactivatesAt <= now)
        {
            return "Dates must be in the future; to act now, use activate or deactivate.";
        }

        return deactivatesAt <= activatesAt ? "deactivatesAt must be after activatesAt." : null;
    }

    /// <summary>
    /// The lifecycle with both dates replaced (null clears one), or null with <paramref name="refusal"/>
    /// when the version's state does not take them (a 409): only a PreActive version has an activation
    /// date, only a PreActive or Active one an expiry, and a version awaiting destruction or destroyed
    /// takes neither. The state is judged at <paramref name="now"/>: a version whose expiry has passed
    /// is Deactivated even before the scheduler records it, so new dates cannot bring it back.
    /// </summary>
    public static VersionLifecycle? TrySet(VersionLifecycle stored, DateTimeOffset? activatesAt, DateTimeOffset? deactivatesAt, DateTimeOffset now, out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var current = InForceAt(stored, now);
        refusal = current switch
        {
            { State: KeyVersionState.Destroyed } => "The version is destroyed; nothing can change it any more.",
            { DestroysAt: not null } => "The version is scheduled for destruction; cancel that first.",
            { State: not KeyVersionState.PreActive } when activatesAt is not null =>
                $"Only a PreActive version has an activation date; this one is {current.State}.",
            { State: not (KeyVersionState.PreActive or KeyVersionState.Active) } when deactivatesAt is not null =>
                $"Only a PreActive or Active version can expire; this one is {current.State}.",
            _ => null,
        };
        return refusal is null ? current with { ActivatesAt = activatesAt, DeactivatesAt = deactivatesAt } : null;
    }

    /// <summary>The lifecycle with the activation and expiry that are due at <paramref name="now"/>
    /// applied, as the scheduler will record them (<see cref="VersionLifecycle.StateAt"/>).</summary>
    public static VersionLifecycle InForceAt(VersionLifecycle stored, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var current = stored;
        if (current is { State: KeyVersionState.PreActive, ActivatesAt: { } activates } && activates <= now)
        {
            current = current with { State = KeyVersionState.Active, ActivatesAt = null };
        }

        if (current is { State: KeyVersionState.Active, DeactivatesAt: { } expires } && expires <= now)
        {
            current = current with { State = KeyVersionState.Deactivated, DeactivatesAt = null };
        }

        return current;
    }
}
