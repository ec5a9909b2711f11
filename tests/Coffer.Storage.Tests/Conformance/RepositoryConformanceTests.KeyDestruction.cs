using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Destruction: whole-key waiting periods, what the sweeper finds due, and a
/// destroyed version whose material is gone from the row.</summary>
public abstract partial class RepositoryConformanceTests
{
    private static readonly VersionLifecycle DeactivatedDueNow = new(KeyVersionState.Deactivated, DestroysAt: T0.AddDays(7));

    private async Task<ManagedKey> KeyWithVersion1ScheduledAsync(DateTimeOffset destroysAt)
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        Assert.True(await Keys.RotateAsync(key.Id, 1, Version(key, 2), T0, "tok-1"));
        Assert.True(await Keys.UpdateVersionLifecycleAsync(key.Id, 1, new VersionLifecycle(KeyVersionState.Deactivated),
            new VersionLifecycle(KeyVersionState.Deactivated, DestroysAt: destroysAt), T0, "tok-1"));
        return key;
    }

    [Fact]
    public async Task A_version_is_due_for_destruction_at_the_end_of_its_waiting_period_and_not_before()
    {
        var key = await KeyWithVersion1ScheduledAsync(T0.AddDays(7));

        Assert.Empty(await Keys.ListVersionsDueForDestructionAsync(T0.AddDays(7).AddTicks(-1)));
        var due = Assert.Single(await Keys.ListVersionsDueForDestructionAsync(T0.AddDays(7)));
        Assert.Equal((key.Id, 1), (due.KeyId, due.Version));
    }

    [Fact]
    public async Task Destroying_a_version_erases_its_material_and_it_is_no_longer_due()
    {
        var key = await KeyWithVersion1ScheduledAsync(T0.AddDays(7));

        Assert.True(await Keys.DestroyVersionAsync(key.Id, 1, DeactivatedDueNow, T0.AddDays(8), KeyVersion.SystemActor));

        var versions = await Keys.ListVersionsAsync(key.Id);
        Assert.Equal(KeyVersionState.Destroyed, versions[0].State);
        Assert.Empty(versions[0].Material);
        Assert.Null(versions[0].DestroysAt);
        Assert.Equal((T0.AddDays(8), KeyVersion.SystemActor), (versions[0].StateChangedAt!.Value, versions[0].StateChangedBy!));
        Assert.Equal([9, 2], versions[1].Material);
        Assert.Empty(await Keys.ListVersionsDueForDestructionAsync(T0.AddDays(30)));
    }

    [Fact]
    public async Task Destroying_a_version_that_changed_meanwhile_is_a_conflict_and_erases_nothing()
    {
        var key = await KeyWithVersion1ScheduledAsync(T0.AddDays(7));
        // An administrator cancelled after the sweeper looked.
        Assert.True(await Keys.UpdateVersionLifecycleAsync(key.Id, 1, DeactivatedDueNow, new VersionLifecycle(KeyVersionState.Deactivated), T0.AddDays(1), "tok-2"));

        await Assert.ThrowsAsync<ConflictException>(() => Keys.DestroyVersionAsync(key.Id, 1, DeactivatedDueNow, T0.AddDays(8), KeyVersion.SystemActor));

        var version = (await Keys.ListVersionsAsync(key.Id))[0];
        Assert.Equal(KeyVersionState.Deactivated, version.State);
        Assert.Equal(FirstVersion(key).Material, version.Material);
        Assert.False(await Keys.DestroyVersionAsync("no-such-key", 1, DeactivatedDueNow, T0, KeyVersion.SystemActor));
    }

    [Fact]
    public async Task A_key_destruction_schedule_is_compare_and_set_and_makes_the_key_due_at_its_end()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);

        Assert.True(await Keys.SetKeyDestroysAtAsync(key.Id, null, T0.AddDays(10)));
        await Assert.ThrowsAsync<ConflictException>(() => Keys.SetKeyDestroysAtAsync(key.Id, null, T0.AddDays(20)));

        Assert.Equal(T0.AddDays(10), (await Keys.GetKeyAsync(key.Id))!.DestroysAt);
        Assert.Empty(await Keys.ListKeysDueForDestructionAsync(T0.AddDays(10).AddTicks(-1)));
        Assert.Equal(key.Id, Assert.Single(await Keys.ListKeysDueForDestructionAsync(T0.AddDays(10))).Id);
        Assert.True(await Keys.SetKeyDestroysAtAsync(key.Id, T0.AddDays(10), null));
        Assert.Null((await Keys.GetKeyAsync(key.Id))!.DestroysAt);
        Assert.Empty(await Keys.ListKeysDueForDestructionAsync(T0.AddDays(40)));
        Assert.False(await Keys.SetKeyDestroysAtAsync("no-such-key", null, T0));
    }

    [Fact]
    public async Task A_key_becomes_a_tombstone_only_once_every_version_is_destroyed_and_keeps_its_external_id()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        Assert.True(await Keys.SetKeyDestroysAtAsync(key.Id, null, T0.AddDays(7)));

        await Assert.ThrowsAsync<ConflictException>(() => Keys.MarkKeyDestroyedAsync(key.Id, T0.AddDays(7)));
        Assert.True(await Keys.DestroyVersionAsync(key.Id, 1, new VersionLifecycle(KeyVersionState.Active), T0.AddDays(7), KeyVersion.SystemActor));
        Assert.True(await Keys.MarkKeyDestroyedAsync(key.Id, T0.AddDays(7)));
        Assert.True(await Keys.MarkKeyDestroyedAsync(key.Id, T0.AddDays(9)));

        var tombstone = (await Keys.GetKeyAsync(key.Id))!;
        Assert.Equal(T0.AddDays(7), tombstone.DestroyedAt);
        Assert.Null(tombstone.DestroysAt);
        Assert.True(tombstone.IsDestroyed);
        Assert.Empty(await Keys.ListKeysDueForDestructionAsync(T0.AddDays(40)));
        await Assert.ThrowsAsync<ConflictException>(() => Keys.SetKeyDestroysAtAsync(key.Id, null, T0.AddDays(50)));
        var reuse = NewKey(key.KeyStoreId, key.ExternalId);
        await Assert.ThrowsAsync<ConflictException>(() => Keys.CreateKeyAsync(reuse, FirstVersion(reuse)));
        Assert.False(await Keys.MarkKeyDestroyedAsync("no-such-key", T0));
    }
}
