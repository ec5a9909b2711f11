using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Encryption reservations under a key version: never past the limit, across connections.</summary>
public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task Reservations_grow_to_the_limit_and_no_further()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);

        Assert.Equal(new EncryptionReservation(40, 40), await Keys.ReserveEncryptionsAsync(key.Id, 1, 40, 100));
        Assert.Equal(new EncryptionReservation(40, 80), await Keys.ReserveEncryptionsAsync(key.Id, 1, 40, 100));
        Assert.Equal(new EncryptionReservation(20, 100), await Keys.ReserveEncryptionsAsync(key.Id, 1, 40, 100)); // what is left
        Assert.Equal(new EncryptionReservation(0, 100), await Keys.ReserveEncryptionsAsync(key.Id, 1, 40, 100));
        Assert.Equal(100, await Keys.GetEncryptionsReservedAsync(key.Id, 1));
        Assert.Equal(new EncryptionReservation(0, 0), await Keys.ReserveEncryptionsAsync(key.Id, 2, 40, 100)); // no such version
        Assert.Equal(0, await Keys.GetEncryptionsReservedAsync(key.Id, 2));
    }

    [Fact]
    public async Task Concurrent_reservations_from_two_connections_never_pass_the_limit_together()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var second = await OpenAsync();

        var granted = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() =>
            (i % 2 == 0 ? Keys : second.Keys).ReserveEncryptionsAsync(key.Id, 1, 7, 50))));

        Assert.Equal(50, granted.Sum(r => r.Granted));
        Assert.Equal(50, granted.Max(r => r.Total));
        Assert.Equal(50, await Keys.GetEncryptionsReservedAsync(key.Id, 1));
    }
}

/// <summary>Versions near their expiry or encryption budget (the console's Overview): index reads on both engines.</summary>
public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task Versions_expiring_soon_or_near_their_budget_are_listed_and_no_others()
    {
        var store = (await CreateKeyStoreAsync()).Id;
        var soon = await CreateKeyAsync(store, "soon");
        var later = await CreateKeyAsync(store, "later");
        var spent = await CreateKeyAsync(store, "spent");
        var quiet = await CreateKeyAsync(store, "quiet");
        var active = new VersionLifecycle(KeyVersionState.Active);
        Assert.True(await Keys.UpdateVersionLifecycleAsync(soon.Id, 1, active, active with { DeactivatesAt = T0.AddDays(5) }, T0, "tok-1"));
        Assert.True(await Keys.UpdateVersionLifecycleAsync(later.Id, 1, active, active with { DeactivatesAt = T0.AddDays(60) }, T0, "tok-1"));
        await Keys.ReserveEncryptionsAsync(spent.Id, 1, 90, 100);
        await Keys.ReserveEncryptionsAsync(quiet.Id, 1, 10, 100);

        var listed = (await Keys.ListVersionsNeedingAttentionAsync(T0.AddDays(30), 80, 10)).ToDictionary(v => v.KeyId);

        Assert.Equal((1, T0.AddDays(5)), (listed[soon.Id].Version, listed[soon.Id].DeactivatesAt));
        Assert.Equal(("spent", 90L), (listed[spent.Id].Name, listed[spent.Id].EncryptionsReserved));
        Assert.Equal(store, listed[spent.Id].KeyStoreId);
        Assert.False(listed.ContainsKey(later.Id));
        Assert.False(listed.ContainsKey(quiet.Id));
    }
}
