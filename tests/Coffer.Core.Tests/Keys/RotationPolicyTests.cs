using Coffer.Keys;

namespace Coffer.Core.Tests.Keys;

public sealed class RotationPolicyTests
{
    // A Saturday.
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    private static RotationPolicy Policy(int? interval = null, TimeOnly? at = null, DayOfWeek? day = null, int? beforeExpiry = null) =>
        new(interval, at, day, beforeExpiry, T0, "tok-1");

    private static RotationCandidate Candidate(RotationPolicy? policy, DateTimeOffset created, DateTimeOffset? expires = null, DateTimeOffset? lastDue = null, bool enabled = true)
    {
        var key = new ManagedKey("key-1", "ks-1", "k", "", new Dictionary<string, string>(), KeyUsage.EncryptDecrypt, enabled, 3, created);
        var current = new KeyVersion("key-1", 3, KeyVersionState.Active, "software", [1], created) { DeactivatesAt = expires };
        return new RotationCandidate(key, current, policy, null, lastDue);
    }

    [Theory]
    [InlineData(0, null, null, null, "intervalDays is 1")]
    [InlineData(2, "02:00", null, null, "not both")]
    [InlineData(null, null, null, 0, "rotateBeforeExpiryDays is 1")]
    [InlineData(null, null, null, null, "needs intervalDays")]
    public void A_policy_that_makes_no_sense_says_why(int? interval, string? at, DayOfWeek? day, int? before, string problem)
    {
        var policy = Policy(interval, at is null ? null : TimeOnly.Parse(at, System.Globalization.CultureInfo.InvariantCulture), day, before);

        Assert.Contains(problem, policy.Problem(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_version_waiting_for_its_handover_is_not_rotated_away_and_its_period_counts_from_its_activation()
    {
        var activates = T0.AddDays(5);
        var waiting = Candidate(Policy(interval: 1), created: T0) is var c
            ? c with { Current = c.Current with { State = KeyVersionState.PreActive, ActivatesAt = activates } }
            : null!;
        var active = waiting with { Current = waiting.Current with { State = KeyVersionState.Active } };

        // Due by its creation a day later, yet the rotation it owes is the handover itself.
        Assert.Null(waiting.DueAt(T0.AddDays(2)));
        Assert.Null(waiting.DueAt(activates.AddDays(3)));
        Assert.Null(active.DueAt(activates.AddDays(1).AddTicks(-1)));
        Assert.Equal(activates.AddDays(1), active.DueAt(activates.AddDays(1))!.DueAt);
    }

    [Fact]
    public void Every_N_days_is_due_N_days_after_the_current_version_was_made_and_not_a_tick_before()
    {
        var candidate = Candidate(Policy(interval: 3), created: T0.AddHours(1));

        Assert.Null(candidate.DueAt(T0.AddDays(3).AddHours(1).AddTicks(-1)));
        Assert.Equal(T0.AddDays(3).AddHours(1), candidate.DueAt(T0.AddDays(3).AddHours(1))!.DueAt);
        Assert.Equal(T0.AddDays(3).AddHours(1), candidate.NextAt());
    }

    [Fact]
    public void A_policy_set_after_the_last_rotation_counts_from_when_it_was_set()
    {
        var candidate = Candidate(Policy(interval: 3), created: T0.AddDays(-100));

        Assert.Null(candidate.DueAt(T0.AddDays(3).AddTicks(-1)));
        Assert.NotNull(candidate.DueAt(T0.AddDays(3)));
    }

    [Fact]
    public void Missed_calendar_periods_collapse_into_one_due_time_the_latest()
    {
        var candidate = Candidate(Policy(at: new TimeOnly(2, 30)), created: T0);

        // Ten days later at noon: ten 02:30s have passed; the latest is today's.
        var due = candidate.DueAt(T0.AddDays(10).AddHours(4));

        Assert.Equal(new DateTimeOffset(2026, 12, 8, 2, 30, 0, TimeSpan.Zero), due!.DueAt);
        Assert.Null(Candidate(Policy(at: new TimeOnly(2, 30)), created: due.DueAt.AddSeconds(1)).DueAt(T0.AddDays(10).AddHours(4)));
    }

    [Fact]
    public void A_weekly_policy_is_due_on_its_weekday_only()
    {
        var candidate = Candidate(Policy(at: new TimeOnly(1, 0), day: DayOfWeek.Tuesday), created: T0);

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.Zero), candidate.NextAt());
        Assert.Null(candidate.DueAt(new DateTimeOffset(2026, 12, 1, 0, 59, 59, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.Zero), candidate.DueAt(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero))!.DueAt);
    }

    [Fact]
    public void Rotation_before_expiry_is_due_its_lead_before_the_current_versions_expiry()
    {
        var candidate = Candidate(Policy(beforeExpiry: 7), created: T0, expires: T0.AddDays(30));

        Assert.Null(candidate.DueAt(T0.AddDays(23).AddTicks(-1)));
        Assert.Equal(T0.AddDays(23), candidate.DueAt(T0.AddDays(23))!.DueAt);
        Assert.Null(Candidate(Policy(beforeExpiry: 7), created: T0).DueAt(T0.AddYears(5)));
    }

    [Fact]
    public void A_disabled_key_or_one_without_a_policy_is_never_due()
    {
        Assert.Null(Candidate(Policy(interval: 1), created: T0, enabled: false).DueAt(T0.AddDays(9)));
        Assert.Null(Candidate(null, created: T0).DueAt(T0.AddDays(9)));
    }

    [Fact]
    public void The_keys_own_policy_replaces_its_key_stores()
    {
        var candidate = Candidate(Policy(interval: 10), created: T0) with { KeyStorePolicy = Policy(interval: 1) };

        Assert.Null(candidate.DueAt(T0.AddDays(2)));
        Assert.NotNull((candidate with { KeyPolicy = null }).DueAt(T0.AddDays(2)));
    }

    [Fact]
    public void Dates_are_refused_on_a_version_that_cannot_take_them()
    {
        var now = T0;
        Assert.Contains("future", VersionDates.Problem(now, null, now), StringComparison.Ordinal);
        Assert.Contains("after activatesAt", VersionDates.Problem(now.AddDays(2), now.AddDays(1), now), StringComparison.Ordinal);
        Assert.Null(VersionDates.Problem(now.AddDays(1), now.AddDays(2), now));

        Assert.Null(VersionDates.TrySet(new VersionLifecycle(KeyVersionState.Active), now.AddDays(1), null, now, out var activeRefusal));
        Assert.Contains("Only a PreActive version has an activation date", activeRefusal, StringComparison.Ordinal);
        Assert.Null(VersionDates.TrySet(new VersionLifecycle(KeyVersionState.Destroyed), null, null, now, out var destroyed));
        Assert.Contains("destroyed", destroyed, StringComparison.Ordinal);
        Assert.Null(VersionDates.TrySet(new VersionLifecycle(KeyVersionState.Deactivated, DestroysAt: now.AddDays(7)), null, null, now, out var scheduled));
        Assert.Contains("scheduled for destruction", scheduled, StringComparison.Ordinal);

        // An expiry that has passed cannot be undone by clearing it.
        var expired = new VersionLifecycle(KeyVersionState.Active, DeactivatesAt: now.AddTicks(-1));
        Assert.Null(VersionDates.TrySet(expired, null, now.AddDays(1), now, out var gone));
        Assert.Contains("Deactivated", gone, StringComparison.Ordinal);
        Assert.Equal(KeyVersionState.Deactivated, VersionDates.TrySet(expired, null, null, now, out _)!.State);
        Assert.Equal(new VersionLifecycle(KeyVersionState.Active, DeactivatesAt: now.AddDays(3)),
            VersionDates.TrySet(new VersionLifecycle(KeyVersionState.Active), null, now.AddDays(3), now, out _));
    }
}
