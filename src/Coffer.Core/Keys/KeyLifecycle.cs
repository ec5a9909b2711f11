namespace Coffer.Keys;

/// <summary>What an administrator (or the scheduler) asks of one key version.</summary>
public enum KeyVersionAction
{
    /// <summary>PreActive → Active: the version may encrypt (if it is the current one).</summary>
    Activate,

    /// <summary>Active → Deactivated (revoke, expiry, rotated out): decrypt only.</summary>
    Deactivate,

    /// <summary>PreActive, Active or Deactivated → Compromised: never encrypts again; decrypts only
    /// if the key allows it.</summary>
    MarkCompromised,

    /// <summary>Starts the waiting period before destruction (the version stops working at once).</summary>
    ScheduleDestruction,

    /// <summary>Ends a waiting period early: the version works as before.</summary>
    CancelDestruction,

    /// <summary>The waiting period is over: the material is destroyed. Only the scheduler does this.</summary>
    Destroy,
}

/// <summary>
/// The KMIP-style state machine of a key version (docs/design.md, "Lifecycle"; KMIP 2.1 §3.22
/// State): PreActive → Active → Deactivated → Destroyed, Compromised as a side state. Pure: the
/// caller stores the result and records it in the audit log.
/// </summary>
/// <remarks>
/// <para>Destruction is two steps, as AWS KMS does it: a schedule with a waiting period of
/// <see cref="MinWaitingPeriod"/> to <see cref="MaxWaitingPeriod"/> (default
/// <see cref="DefaultWaitingPeriod"/>), during which the version is unusable but can be brought back
/// by cancelling; then <see cref="KeyVersionAction.Destroy"/> once the period is over. An Active
/// version cannot be scheduled: it must be deactivated (or rotated out) first, so destroying never
/// silently stops encryption.</para>
/// </remarks>
public static class KeyLifecycle
{
    public static readonly TimeSpan MinWaitingPeriod = TimeSpan.FromDays(7);
    public static readonly TimeSpan MaxWaitingPeriod = TimeSpan.FromDays(30);
    public static readonly TimeSpan DefaultWaitingPeriod = TimeSpan.FromDays(30);

    /// <summary>
    /// Applies <paramref name="action"/> at <paramref name="now"/>. Returns the new lifecycle, or
    /// null with <paramref name="refusal"/> saying why the transition is illegal (a 409 for the
    /// management API); the input is never changed.
    /// </summary>
    /// <param name="waitingPeriod">For <see cref="KeyVersionAction.ScheduleDestruction"/> only.</param>
    public static VersionLifecycle? TryApply(VersionLifecycle current, KeyVersionAction action, DateTimeOffset now,
        out string? refusal, TimeSpan? waitingPeriod = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        var state = current.State;
        refusal = null;
        if (state == KeyVersionState.Destroyed)
        {
            refusal = "The version is destroyed; nothing can change it any more.";
            return null;
        }

        if (current.DestroysAt is not null && action is not (KeyVersionAction.CancelDestruction or KeyVersionAction.Destroy))
        {
            refusal = "The version is scheduled for destruction; cancel that first.";
            return null;
        }

        switch (action)
        {
            case KeyVersionAction.Activate when state == KeyVersionState.PreActive:
                return current with { State = KeyVersionState.Active, ActivatesAt = null };
            case KeyVersionAction.Activate:
                refusal = $"Only a PreActive version can be activated; this one is {state}.";
                return null;

            case KeyVersionAction.Deactivate when state == KeyVersionState.Active:
                return current with { State = KeyVersionState.Deactivated, DeactivatesAt = null };
            case KeyVersionAction.Deactivate:
                refusal = $"Only an Active version can be deactivated; this one is {state}.";
                return null;

            case KeyVersionAction.MarkCompromised when state != KeyVersionState.Compromised:
                return current with { State = KeyVersionState.Compromised, ActivatesAt = null, DeactivatesAt = null };
            case KeyVersionAction.MarkCompromised:
                refusal = "The version is already Compromised.";
                return null;

            case KeyVersionAction.ScheduleDestruction when state == KeyVersionState.Active:
                refusal = "An Active version cannot be scheduled for destruction; deactivate it or rotate the key first.";
                return null;
            case KeyVersionAction.ScheduleDestruction:
                var wait = waitingPeriod ?? DefaultWaitingPeriod;
                if (wait < MinWaitingPeriod || wait > MaxWaitingPeriod)
                {
                    refusal = $"The waiting period before destruction must be {MinWaitingPeriod.TotalDays:0} to {MaxWaitingPeriod.TotalDays:0} days.";
                    return null;
                }

                return current with { DestroysAt = now + wait };

            case KeyVersionAction.CancelDestruction when current.DestroysAt is not null:
                return current with { DestroysAt = null };
            case KeyVersionAction.CancelDestruction:
                refusal = "The version is not scheduled for destruction.";
                return null;

            case KeyVersionAction.Destroy when current.DestroysAt is { } due && due <= now:
                return new VersionLifecycle(KeyVersionState.Destroyed);
            case KeyVersionAction.Destroy:
                refusal = current.DestroysAt is null
                    ? "A version is destroyed only after a scheduled waiting period."
                    : "The waiting period before destruction has not ended yet.";
                return null;

            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, "Unknown key version action.");
        }
    }
}

/// <summary>
/// A version's stored state and the times that change it without anyone acting: activation,
/// expiry (deactivation) and the end of a destruction waiting period.
/// </summary>
/// <remarks>
/// The hot path asks <see cref="StateAt"/>, so a version stops encrypting at the very instant it
/// expires even if the scheduler that persists the change runs a little later.
/// </remarks>
public sealed record VersionLifecycle(
    KeyVersionState State,
    DateTimeOffset? ActivatesAt = null,
    DateTimeOffset? DeactivatesAt = null,
    DateTimeOffset? DestroysAt = null)
{
    /// <summary>The state in force at <paramref name="now"/>, with due activation and expiry applied.</summary>
    public KeyVersionState StateAt(DateTimeOffset now) => State switch
    {
        KeyVersionState.PreActive when ActivatesAt <= now => DeactivatesAt <= now ? KeyVersionState.Deactivated : KeyVersionState.Active,
        KeyVersionState.Active when DeactivatesAt <= now => KeyVersionState.Deactivated,
        _ => State,
    };

    /// <summary>Whether the version may encrypt at <paramref name="now"/> (if it is the key's current one).</summary>
    public bool CanEncryptAt(DateTimeOffset now) => DestroysAt is null && StateAt(now) == KeyVersionState.Active;

    /// <summary>Whether the version may decrypt at <paramref name="now"/>; a Compromised version only
    /// when the key allows it (<paramref name="compromisedMayDecrypt"/>, default no).</summary>
    public bool CanDecryptAt(DateTimeOffset now, bool compromisedMayDecrypt = false) => DestroysAt is null && StateAt(now) switch
    {
        KeyVersionState.Active or KeyVersionState.Deactivated => true,
        KeyVersionState.Compromised => compromisedMayDecrypt,
        _ => false,
    };
}
