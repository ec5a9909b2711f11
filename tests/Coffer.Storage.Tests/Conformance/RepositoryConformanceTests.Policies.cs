namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task Each_policy_version_is_kept_and_the_latest_is_current()
    {
        var policies = Store.Policies;
        var first = await policies.AddVersionAsync(PolicyScopes.KeyStore, "ks-1", "{\"rules\":[]}", T0, "tok-1");
        var second = await policies.AddVersionAsync(PolicyScopes.KeyStore, "ks-1", "{\"rules\":[1]}", T0.AddMinutes(1), "tok-2");
        var otherScope = await policies.AddVersionAsync(PolicyScopes.Key, "ks-1", "{}", T0, null);

        Assert.Equal(1, first.Version);
        Assert.Equal(2, second.Version);
        Assert.Equal(1, otherScope.Version);
        Assert.Equal(["{\"rules\":[]}", "{\"rules\":[1]}"], (await policies.ListVersionsAsync(PolicyScopes.KeyStore, "ks-1")).Select(p => p.Document));
        var latest = await policies.GetAsync(PolicyScopes.KeyStore, "ks-1");
        Assert.Equal(second, latest);
        Assert.Equal(T0.AddMinutes(1), latest!.CreatedAt);
        Assert.Equal(first, await policies.GetAsync(PolicyScopes.KeyStore, "ks-1", 1));
        Assert.Null(await policies.GetAsync(PolicyScopes.KeyStore, "ks-1", 3));
        Assert.Null(await policies.GetAsync(PolicyScopes.KeyStore, "nope"));
    }

    [Fact]
    public async Task A_cleared_scope_is_not_current_but_its_history_stays()
    {
        var policies = Store.Policies;
        await policies.AddVersionAsync(PolicyScopes.Key, "key-1", "{\"rules\":[]}", T0, null);
        await policies.AddVersionAsync(PolicyScopes.Key, "key-1", null, T0, null);
        await policies.AddVersionAsync(PolicyScopes.Key, "key-2", "{\"rules\":[2]}", T0, null);

        var current = await policies.ListCurrentAsync();

        Assert.Equal(["key-2"], current.Select(p => p.ScopeId));
        Assert.Equal(2, (await policies.ListVersionsAsync(PolicyScopes.Key, "key-1")).Count);
    }

    [Fact]
    public async Task Region_sets_are_created_replaced_and_deleted()
    {
        var policies = Store.Policies;
        await policies.PutRegionSetAsync(new StoredRegionSet("mine", ["eu-west-1", "eu-central-1"], T0));
        await policies.PutRegionSetAsync(new StoredRegionSet("mine", ["eu-north-1"], T0.AddDays(1)));

        var sets = await policies.ListRegionSetsAsync();

        var set = Assert.Single(sets);
        Assert.Equal(["eu-north-1"], set.Regions);
        Assert.Equal(T0.AddDays(1), set.UpdatedAt);
        Assert.True(await policies.DeleteRegionSetAsync("mine"));
        Assert.False(await policies.DeleteRegionSetAsync("mine"));
        Assert.Empty(await policies.ListRegionSetsAsync());
    }
}
