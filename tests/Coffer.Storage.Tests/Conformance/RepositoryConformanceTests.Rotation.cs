using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Rotation policies and the scheduler's queries and claims.</summary>
public abstract partial class RepositoryConformanceTests
{
    private static RotationPolicy Policy(int? interval = 30, TimeOnly? at = null, DayOfWeek? day = null, int? beforeExpiry = null) =>
        new(interval, at, day, beforeExpiry, T0.AddTicks(9), "tok-ü");

    private static KeyVersion NextVersion(ManagedKey key, int version) =>
        new(key.Id, version, KeyVersionState.Active, "software", [7, (byte)version], T0.AddDays(version));

    [Fact]
    public async Task A_policy_round_trips_is_replaced_and_deleted_per_scope()
    {
        var store = await CreateKeyStoreAsync();
        var calendar = Policy(interval: null, at: new TimeOnly(23, 59), day: DayOfWeek.Sunday, beforeExpiry: 3);

        await Rotation.SetPolicyAsync(RotationPolicyScope.KeyStore, store.Id, calendar);
        Assert.Equal(calendar, await Rotation.GetPolicyAsync(RotationPolicyScope.KeyStore, store.Id));
        Assert.Null(await Rotation.GetPolicyAsync(RotationPolicyScope.Key, store.Id));

        await Rotation.SetPolicyAsync(RotationPolicyScope.KeyStore, store.Id, Policy(interval: 5));
        Assert.Equal(Policy(interval: 5), await Rotation.GetPolicyAsync(RotationPolicyScope.KeyStore, store.Id));
        Assert.True(await Rotation.DeletePolicyAsync(RotationPolicyScope.KeyStore, store.Id));
        Assert.False(await Rotation.DeletePolicyAsync(RotationPolicyScope.KeyStore, store.Id));
        Assert.Null(await Rotation.GetPolicyAsync(RotationPolicyScope.KeyStore, store.Id));
    }

    [Fact]
    public async Task Candidates_are_the_keys_with_a_policy_of_their_own_or_of_their_key_store()
    {
        var store = await CreateKeyStoreAsync();
        var other = await CreateKeyStoreAsync();
        var inStore = await CreateKeyAsync(store.Id);
        var own = await CreateKeyAsync(other.Id);
        var none = await CreateKeyAsync(other.Id);
        await Rotation.SetPolicyAsync(RotationPolicyScope.KeyStore, store.Id, Policy(interval: 2));
        await Rotation.SetPolicyAsync(RotationPolicyScope.Key, own.Id, Policy(interval: 3));
        await Keys.RotateAsync(own.Id, 1, NextVersion(own, 2), T0.AddDays(2), "tok-1");

        var candidates = await Rotation.ListCandidatesAsync();

        Assert.Equal(new[] { inStore.Id, own.Id }.Order(StringComparer.Ordinal), candidates.Select(c => c.Key.Id));
        var first = candidates.Single(c => c.Key.Id == inStore.Id);
        Assert.Equal((null, 2), (first.KeyPolicy, first.KeyStorePolicy!.IntervalDays));
        var second = candidates.Single(c => c.Key.Id == own.Id);
        Assert.Equal((2, 3, (DateTimeOffset?)null), (second.Current.Version, second.Policy!.IntervalDays, second.LastDueAt));
        var alone = Assert.Single(await Rotation.ListCandidatesAsync(none.Id));
        Assert.Null(alone.Policy);
    }

    [Fact]
    public async Task A_scheduled_rotation_records_its_due_time_and_a_second_claim_on_that_version_loses()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var second = await OpenAsync();
        var due = T0.AddDays(1).AddTicks(3);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            try
            {
                await (i % 2 == 0 ? Keys : second.Keys).RotateAsync(key.Id, 1, NextVersion(key, 2) with { Material = [(byte)i] }, due, KeyVersion.SystemActor, new RotationClaim(due));
                return null;
            }
            catch (ConflictException e)
            {
                return e;
            }
        })));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.Equal(2, (await Keys.ListVersionsAsync(key.Id)).Count);
        Assert.Equal(due, Assert.Single(await Rotation.ListCandidatesAsync(key.Id)).LastDueAt);
        // A later manual rotation changes nothing the scheduler remembers.
        await Keys.RotateAsync(key.Id, 2, NextVersion(key, 3), due.AddDays(1), "tok-1");
        Assert.Equal(due, Assert.Single(await Rotation.ListCandidatesAsync(key.Id)).LastDueAt);
    }

    [Fact]
    public async Task Due_version_changes_are_passed_activations_and_expiries_not_yet_recorded()
    {
        var store = await CreateKeyStoreAsync();
        var activating = NewKey(store.Id);
        var expiring = NewKey(store.Id);
        var later = NewKey(store.Id);
        var scheduled = NewKey(store.Id);
        await Keys.CreateKeyAsync(activating, FirstVersion(activating, KeyVersionState.PreActive) with { ActivatesAt = T0.AddHours(1) });
        await Keys.CreateKeyAsync(expiring, FirstVersion(expiring) with { DeactivatesAt = T0.AddHours(2) });
        await Keys.CreateKeyAsync(later, FirstVersion(later) with { DeactivatesAt = T0.AddHours(3) });
        await Keys.CreateKeyAsync(scheduled, FirstVersion(scheduled, KeyVersionState.PreActive) with { ActivatesAt = T0.AddHours(1), DestroysAt = T0.AddDays(9) });

        Assert.Empty(await Rotation.ListDueVersionChangesAsync(T0.AddHours(1).AddTicks(-1)));
        Assert.Equal([activating.Id], (await Rotation.ListDueVersionChangesAsync(T0.AddHours(1))).Select(v => v.KeyId));
        Assert.Equal(new[] { activating.Id, expiring.Id }.Order(StringComparer.Ordinal),
            (await Rotation.ListDueVersionChangesAsync(T0.AddHours(2).AddMinutes(1))).Select(v => v.KeyId));
    }

    [Fact]
    public async Task Deleting_a_key_store_deletes_its_policy()
    {
        var store = await CreateKeyStoreAsync();
        await Rotation.SetPolicyAsync(RotationPolicyScope.KeyStore, store.Id, Policy());

        Assert.Equal(DeleteOutcome.Deleted, await KeyStores.DeleteKeyStoreAsync(store.Id));

        Assert.Null(await Rotation.GetPolicyAsync(RotationPolicyScope.KeyStore, store.Id));
    }
}
