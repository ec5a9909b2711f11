using Coffer.Keys;
using static Coffer.Keys.KeyVersionAction;
using static Coffer.Keys.KeyVersionState;

namespace Coffer.Core.Tests.Keys;

/// <summary>The key version state machine (docs/design.md, "Lifecycle"): every legal move,
/// every illegal one refused with a reason and nothing changed, activation and expiry by time,
/// destruction only after a 7–30 day wait that can be cancelled.</summary>
public sealed class KeyLifecycleTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(PreActive, Activate, Active)]
    [InlineData(Active, Deactivate, Deactivated)]
    [InlineData(PreActive, MarkCompromised, Compromised)]
    [InlineData(Active, MarkCompromised, Compromised)]
    [InlineData(Deactivated, MarkCompromised, Compromised)]
    public void A_legal_transition_gives_the_next_state(KeyVersionState from, KeyVersionAction action, KeyVersionState to)
    {
        var next = KeyLifecycle.TryApply(new VersionLifecycle(from), action, Now, out var refusal);

        Assert.Null(refusal);
        Assert.Equal(to, next!.State);
    }

    [Theory]
    [InlineData(Active, Activate)]
    [InlineData(Deactivated, Activate)]
    [InlineData(Compromised, Activate)]
    [InlineData(PreActive, Deactivate)]
    [InlineData(Deactivated, Deactivate)]
    [InlineData(Compromised, Deactivate)]
    [InlineData(Compromised, MarkCompromised)]
    [InlineData(Active, ScheduleDestruction)]
    [InlineData(Deactivated, CancelDestruction)]
    [InlineData(Deactivated, Destroy)]
    [InlineData(Destroyed, Activate)]
    [InlineData(Destroyed, Deactivate)]
    [InlineData(Destroyed, MarkCompromised)]
    [InlineData(Destroyed, ScheduleDestruction)]
    [InlineData(Destroyed, CancelDestruction)]
    [InlineData(Destroyed, Destroy)]
    public void An_illegal_transition_is_refused_with_a_reason(KeyVersionState from, KeyVersionAction action)
    {
        var current = new VersionLifecycle(from);

        Assert.Null(KeyLifecycle.TryApply(current, action, Now, out var refusal));
        Assert.False(string.IsNullOrWhiteSpace(refusal));
        Assert.Equal(new VersionLifecycle(from), current);
    }

    [Theory]
    [InlineData(PreActive)]
    [InlineData(Deactivated)]
    [InlineData(Compromised)]
    public void Destruction_waits_the_default_30_days_and_then_destroys(KeyVersionState from)
    {
        var scheduled = KeyLifecycle.TryApply(new VersionLifecycle(from), ScheduleDestruction, Now, out _)!;
        Assert.Equal(Now.AddDays(30), scheduled.DestroysAt);
        Assert.Equal(from, scheduled.State);

        Assert.Null(KeyLifecycle.TryApply(scheduled, Destroy, Now.AddDays(30).AddTicks(-1), out var early));
        Assert.Contains("not ended", early, StringComparison.Ordinal);

        var destroyed = KeyLifecycle.TryApply(scheduled, Destroy, Now.AddDays(30), out _)!;
        Assert.Equal(Destroyed, destroyed.State);
        Assert.Null(destroyed.DestroysAt);
    }

    [Theory]
    [InlineData(6.99, false)]
    [InlineData(7, true)]
    [InlineData(15, true)]
    [InlineData(30, true)]
    [InlineData(30.01, false)]
    public void The_waiting_period_is_7_to_30_days(double days, bool allowed)
    {
        var next = KeyLifecycle.TryApply(new VersionLifecycle(Deactivated), ScheduleDestruction, Now, out var refusal, TimeSpan.FromDays(days));

        Assert.Equal(allowed, next is not null);
        Assert.Equal(allowed, refusal is null);
        if (allowed)
        {
            Assert.Equal(Now + TimeSpan.FromDays(days), next!.DestroysAt);
        }
    }

    [Fact]
    public void Cancelling_during_the_wait_restores_the_version()
    {
        var before = new VersionLifecycle(Deactivated);
        var scheduled = KeyLifecycle.TryApply(before, ScheduleDestruction, Now, out _)!;
        Assert.False(scheduled.CanDecryptAt(Now));

        var cancelled = KeyLifecycle.TryApply(scheduled, CancelDestruction, Now.AddDays(3), out _)!;

        Assert.Equal(before, cancelled);
        Assert.True(cancelled.CanDecryptAt(Now.AddDays(3)));
        Assert.Null(KeyLifecycle.TryApply(cancelled, Destroy, Now.AddDays(31), out _));
    }

    [Theory]
    [InlineData(Activate)]
    [InlineData(MarkCompromised)]
    [InlineData(ScheduleDestruction)]
    public void A_scheduled_version_changes_only_by_cancel_or_destroy(KeyVersionAction action)
    {
        var scheduled = KeyLifecycle.TryApply(new VersionLifecycle(PreActive), ScheduleDestruction, Now, out _)!;

        Assert.Null(KeyLifecycle.TryApply(scheduled, action, Now, out var refusal));
        Assert.Contains("scheduled for destruction", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_PreActive_version_encrypts_from_its_activation_instant()
    {
        var version = new VersionLifecycle(PreActive, ActivatesAt: Now);

        Assert.False(version.CanEncryptAt(Now.AddTicks(-1)));
        Assert.False(version.CanDecryptAt(Now.AddTicks(-1)));
        Assert.Equal(PreActive, version.StateAt(Now.AddTicks(-1)));
        Assert.True(version.CanEncryptAt(Now));
        Assert.Equal(Active, version.StateAt(Now));
    }

    [Fact]
    public void An_Active_version_only_decrypts_from_its_expiry_instant()
    {
        var version = new VersionLifecycle(Active, DeactivatesAt: Now);

        Assert.True(version.CanEncryptAt(Now.AddTicks(-1)));
        Assert.False(version.CanEncryptAt(Now));
        Assert.True(version.CanDecryptAt(Now));
        Assert.Equal(Deactivated, version.StateAt(Now));
    }

    [Fact]
    public void A_version_whose_activation_and_expiry_both_passed_is_Deactivated()
    {
        var version = new VersionLifecycle(PreActive, ActivatesAt: Now.AddDays(-2), DeactivatesAt: Now.AddDays(-1));

        Assert.Equal(Deactivated, version.StateAt(Now));
        Assert.False(version.CanEncryptAt(Now));
        Assert.True(version.CanDecryptAt(Now));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_Compromised_version_never_encrypts_and_decrypts_only_if_the_key_allows(bool allowed)
    {
        var version = new VersionLifecycle(Compromised);

        Assert.False(version.CanEncryptAt(Now));
        Assert.Equal(allowed, version.CanDecryptAt(Now, compromisedMayDecrypt: allowed));
    }

    [Fact]
    public void A_Destroyed_version_neither_encrypts_nor_decrypts()
    {
        var version = new VersionLifecycle(Destroyed);

        Assert.False(version.CanEncryptAt(Now));
        Assert.False(version.CanDecryptAt(Now, compromisedMayDecrypt: true));
    }
}
