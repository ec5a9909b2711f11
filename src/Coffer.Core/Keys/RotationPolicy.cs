using System.Globalization;

namespace Coffer.Keys;

/// <summary>
/// When a key rotates without anyone acting: every <see cref="IntervalDays"/> days after its
/// last rotation, or at <see cref="TimeOfDay"/> (UTC) every day or on <see cref="DayOfWeek"/> only;
/// and, with <see cref="RotateBeforeExpiryDays"/>, that many days before the current version's expiry
/// so encryption never stops. Set on a key or on its key store; a key's own policy replaces its store's
/// whole. Pure: the scheduler (src/Coffer.Server/Lifecycle) asks it what is due.
/// </summary>
/// <remarks>
/// Missed periods collapse: however many due times passed while Coffer was down, a key is due once,
/// and its new version's creation time starts the next period (<see cref="RotationCandidate.DueAt"/>).
/// </remarks>
public sealed record RotationPolicy(
    int? IntervalDays,
    TimeOnly? TimeOfDay,
    DayOfWeek? DayOfWeek,
    int? RotateBeforeExpiryDays,
    DateTimeOffset UpdatedAt,
    string UpdatedBy)
{
    public const int MaxDays = 36500;

    /// <summary>Whether the policy rotates on a calendar (time of day, optionally one weekday).</summary>
    public bool IsCalendar => TimeOfDay is not null || DayOfWeek is not null;

    /// <summary>Null when the policy is usable, else what is wrong with it (a 400 for the API).</summary>
    public string? Problem()
    {
        if (IntervalDays is not null && IsCalendar)
        {
            return "Give either intervalDays or a time of day / day of week, not both.";
        }

        if (IntervalDays is < 1 or > MaxDays)
        {
            return $"intervalDays is 1 to {MaxDays}.";
        }

        if (RotateBeforeExpiryDays is < 1 or > MaxDays)
        {
            return $"rotateBeforeExpiryDays is 1 to {MaxDays}.";
        }

        return IntervalDays is null && !IsCalendar && RotateBeforeExpiryDays is null
            ? "A rotation policy needs intervalDays, timeOfDay (with an optional dayOfWeek) or rotateBeforeExpiryDays."
            : null;
    }

    /// <summary>
    /// The due time of the periodic rotation that is pending at <paramref name="now"/>, or null.
    /// <paramref name="since"/> is the last instant the key was known to be fresh: its current
    /// version's creation, the policy's last change or the last due time handled, whichever is latest.
    /// </summary>
    public DateTimeOffset? PeriodicDueAt(DateTimeOffset since, DateTimeOffset now)
    {
        if (IntervalDays is { } days)
        {
            var due = since.AddDays(days);
            return due <= now ? due : null;
        }

        if (!IsCalendar)
        {
            return null;
        }

        // The latest calendar instant at or before now; due if the key is older than it. Only the
        // latest counts, so a node that was down for weeks rotates once.
        var latest = LatestOccurrence(now);
        return latest > since ? latest : null;
    }

    /// <summary>The next periodic rotation after <paramref name="since"/> (for display), or null.</summary>
    public DateTimeOffset? NextPeriodicAfter(DateTimeOffset since)
    {
        if (IntervalDays is { } days)
        {
            return since.AddDays(days);
        }

        if (!IsCalendar)
        {
            return null;
        }

        var step = DayOfWeek is null ? 1 : 7;
        var next = LatestOccurrence(since);
        while (next <= since)
        {
            next = next.AddDays(step);
        }

        return next;
    }

    /// <summary>When to rotate ahead of an expiry at <paramref name="deactivatesAt"/>, or null.</summary>
    public DateTimeOffset? BeforeExpiryAt(DateTimeOffset? deactivatesAt) =>
        deactivatesAt is { } expiry && RotateBeforeExpiryDays is { } days ? expiry.AddDays(-days) : null;

    /// <summary>How the policy reads in logs and audit details.</summary>
    public string Describe()
    {
        var parts = new List<string>(2);
        if (IntervalDays is { } days)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"every {days} days"));
        }
        else if (IsCalendar)
        {
            var at = (TimeOfDay ?? TimeOnly.MinValue).ToString("HH':'mm", CultureInfo.InvariantCulture);
            parts.Add(DayOfWeek is { } day ? $"on {day} at {at} UTC" : $"daily at {at} UTC");
        }

        if (RotateBeforeExpiryDays is { } before)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{before} days before expiry"));
        }

        return string.Join(", ", parts);
    }

    private DateTimeOffset LatestOccurrence(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        var occurrence = new DateTimeOffset(utc.Date, TimeSpan.Zero) + (TimeOfDay ?? TimeOnly.MinValue).ToTimeSpan();
        if (DayOfWeek is { } day)
        {
            occurrence = occurrence.AddDays(-(((int)occurrence.DayOfWeek - (int)day + 7) % 7));
        }

        return occurrence <= utc ? occurrence : occurrence.AddDays(DayOfWeek is null ? -1 : -7);
    }
}

/// <summary>What a rotation policy is set on.</summary>
public enum RotationPolicyScope
{
    Key,
    KeyStore,
}

/// <summary>
/// A key as the rotation scheduler sees it: its current version, its own and its key store's policy,
/// and the last due time the scheduler handled for it (persisted, so a restart neither forgets nor
/// repeats a rotation).
/// </summary>
public sealed record RotationCandidate(
    ManagedKey Key,
    KeyVersion Current,
    RotationPolicy? KeyPolicy,
    RotationPolicy? KeyStorePolicy,
    DateTimeOffset? LastDueAt)
{
    /// <summary>The policy in force: the key's own, else its key store's.</summary>
    public RotationPolicy? Policy => KeyPolicy ?? KeyStorePolicy;

    /// <summary>The rotation due at <paramref name="now"/>, or null. A disabled key, or one whose
    /// current version is destroyed or awaiting destruction, does not rotate (AWS KMS does not rotate a
    /// disabled key either); once enabled, a missed due time runs once. Nor does a key whose current
    /// version is PreActive: a rotation with a handover time is already under way, and the period
    /// counts from that version's activation.</summary>
    /// <param name="encryptionLimit">The most encryptions a version makes (Xks.MaxEncryptionsPerKeyVersion):
    /// a current version that has reserved three quarters of them is due now, so a key with a policy
    /// rotates long before its encryptions run out.</param>
    public DueRotation? DueAt(DateTimeOffset now, long encryptionLimit = long.MaxValue)
    {
        if (Policy is not { } policy || !Key.Enabled || Current.State is KeyVersionState.Destroyed or KeyVersionState.PreActive
            || Current.DestroysAt is not null)
        {
            return null;
        }

        if (Current.EncryptionsReserved >= encryptionLimit - (encryptionLimit / 4))
        {
            return new DueRotation(now, string.Create(CultureInfo.InvariantCulture,
                $"version {Current.Version} has reserved {Current.EncryptionsReserved} of its {encryptionLimit} encryptions"));
        }

        // Ahead of expiry: once per version, since the rotation replaces the version that expires.
        if (policy.BeforeExpiryAt(Current.DeactivatesAt) is { } beforeExpiry && beforeExpiry <= now)
        {
            return new DueRotation(beforeExpiry, $"{policy.RotateBeforeExpiryDays} days before version {Current.Version} expires");
        }

        return policy.PeriodicDueAt(Since(policy), now) is { } due
            ? new DueRotation(due, policy.Describe())
            : null;
    }

    /// <summary>The next rotation the policy plans (for display), or null.</summary>
    public DateTimeOffset? NextAt()
    {
        if (Policy is not { } policy)
        {
            return null;
        }

        var periodic = policy.NextPeriodicAfter(Since(policy));
        var beforeExpiry = policy.BeforeExpiryAt(Current.DeactivatesAt);
        return periodic is null ? beforeExpiry : beforeExpiry is null ? periodic : periodic < beforeExpiry ? periodic : beforeExpiry;
    }

    private DateTimeOffset Since(RotationPolicy policy)
    {
        // A version made with a handover time starts its period when it starts to encrypt.
        var started = Current.ActivatesAt is { } activates && activates > Current.CreatedAt ? activates : Current.CreatedAt;
        var since = started > policy.UpdatedAt ? started : policy.UpdatedAt;
        return LastDueAt is { } last && last > since ? last : since;
    }
}

/// <summary>A rotation the scheduler owes a key: the due time it answers and why.</summary>
public sealed record DueRotation(DateTimeOffset DueAt, string Reason);
