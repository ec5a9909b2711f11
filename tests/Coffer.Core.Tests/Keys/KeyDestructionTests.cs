using Coffer.Keys;

namespace Coffer.Core.Tests.Keys;

/// <summary>Whole-key destruction: a 7–30 day wait that can be cancelled, then a tombstone
/// that nothing changes; which versions the sweeper destroys when.</summary>
public sealed class KeyDestructionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static readonly ManagedKey Key = new("key_1", "ks_1", "ext", "", new Dictionary<string, string>(), KeyUsage.EncryptDecrypt, true, 2, Now);

    [Theory]
    [InlineData(7)]
    [InlineData(30)]
    public void A_live_key_is_scheduled_for_the_end_of_its_waiting_period(int days)
    {
        Assert.Equal(Now.AddDays(days), KeyDestruction.TrySchedule(Key, Now, TimeSpan.FromDays(days), out var refusal));
        Assert.Null(refusal);
        Assert.Equal(Now.AddDays(30), KeyDestruction.TrySchedule(Key, Now, null, out _));
    }

    [Theory]
    [InlineData(6.99)]
    [InlineData(30.01)]
    public void A_waiting_period_outside_7_to_30_days_is_refused(double days)
    {
        Assert.Null(KeyDestruction.TrySchedule(Key, Now, TimeSpan.FromDays(days), out var refusal));
        Assert.Contains("7 to 30 days", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scheduled_key_cannot_be_scheduled_again_but_can_be_cancelled_and_is_frozen_meanwhile()
    {
        var pending = Key with { DestroysAt = Now.AddDays(7) };

        Assert.Null(KeyDestruction.TrySchedule(pending, Now, null, out var again));
        Assert.Contains("already scheduled", again, StringComparison.Ordinal);
        Assert.True(KeyDestruction.CanCancel(pending, out _));
        Assert.False(KeyDestruction.CanCancel(Key, out var notScheduled));
        Assert.Contains("not scheduled", notScheduled, StringComparison.Ordinal);
        Assert.NotNull(KeyDestruction.Frozen(pending));
        Assert.Null(KeyDestruction.Unchangeable(pending));
        Assert.Null(KeyDestruction.Frozen(Key));
    }

    [Fact]
    public void A_destroyed_key_refuses_everything()
    {
        var tombstone = Key with { DestroyedAt = Now };

        Assert.Null(KeyDestruction.TrySchedule(tombstone, Now, null, out var schedule));
        Assert.False(KeyDestruction.CanCancel(tombstone, out var cancel));
        Assert.All([schedule, cancel, KeyDestruction.Unchangeable(tombstone), KeyDestruction.Frozen(tombstone)],
            reason => Assert.Contains("destroyed", reason, StringComparison.Ordinal));
        Assert.False(KeyDestruction.IsDue(tombstone with { DestroysAt = Now }, Now.AddDays(1)));
    }

    [Fact]
    public void A_version_is_due_at_the_end_of_its_own_or_its_keys_waiting_period_and_never_once_destroyed()
    {
        var scheduled = new VersionLifecycle(KeyVersionState.Deactivated, DestroysAt: Now.AddDays(7));
        var active = new VersionLifecycle(KeyVersionState.Active);
        var pendingKey = Key with { DestroysAt = Now.AddDays(10) };

        Assert.False(KeyDestruction.IsVersionDue(Key, scheduled, Now.AddDays(7).AddTicks(-1)));
        Assert.True(KeyDestruction.IsVersionDue(Key, scheduled, Now.AddDays(7)));
        Assert.False(KeyDestruction.IsVersionDue(pendingKey, active, Now.AddDays(10).AddTicks(-1)));
        Assert.True(KeyDestruction.IsVersionDue(pendingKey, active, Now.AddDays(10)));
        Assert.False(KeyDestruction.IsVersionDue(pendingKey, new VersionLifecycle(KeyVersionState.Destroyed), Now.AddDays(40)));
        Assert.False(KeyDestruction.IsVersionDue(Key, active, Now.AddDays(400)));
    }
}
