using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Rotation and version state changes: one transaction each, compare-and-set so
/// two writers acting on what they both read cannot both win.</summary>
public abstract partial class RepositoryConformanceTests
{
    private static readonly DateTimeOffset Later = T0.AddDays(3).AddTicks(77);

    private static KeyVersion Version(ManagedKey key, int version) =>
        new(key.Id, version, KeyVersionState.Active, "software", [9, (byte)version], T0.AddHours(version));

    [Fact]
    public async Task Every_lifecycle_field_round_trips()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = NewKey(keyStore.Id) with { CompromisedMayDecrypt = true };
        var version = FirstVersion(key, KeyVersionState.PreActive) with
        {
            ActivatesAt = T0.AddDays(1),
            DeactivatesAt = T0.AddDays(2).AddTicks(3),
            DestroysAt = T0.AddDays(40),
            StateChangedAt = T0.AddTicks(5),
            StateChangedBy = "tok-ü",
        };

        await Keys.CreateKeyAsync(key, version);

        Assert.True((await Keys.GetKeyAsync(key.Id))!.CompromisedMayDecrypt);
        Assert.Equal(version, Assert.Single(await Keys.ListVersionsAsync(key.Id)) with { Material = version.Material });
        var loaded = Assert.Single(await Keys.LoadAllAsync());
        Assert.True(loaded.Key.CompromisedMayDecrypt);
        Assert.Equal(version.Lifecycle, Assert.Single(loaded.Versions).Lifecycle);
    }

    [Fact]
    public async Task A_new_key_does_not_let_compromised_versions_decrypt()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);

        Assert.False((await Keys.GetKeyAsync(key.Id))!.CompromisedMayDecrypt);
        Assert.True(await Keys.SetCompromisedMayDecryptAsync(key.Id, true));
        Assert.True((await Keys.GetKeyAsync(key.Id))!.CompromisedMayDecrypt);
        Assert.True(await Keys.SetCompromisedMayDecryptAsync(key.Id, false));
        Assert.False((await Keys.GetKeyAsync(key.Id))!.CompromisedMayDecrypt);
        Assert.False(await Keys.SetCompromisedMayDecryptAsync("no-such-key", true));
    }

    [Fact]
    public async Task Rotating_adds_the_current_version_and_deactivates_the_previous()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);

        Assert.True(await Keys.RotateAsync(key.Id, 1, Version(key, 2), Later, "tok-1"));

        Assert.Equal(2, (await Keys.GetKeyAsync(key.Id))!.CurrentVersion);
        var versions = await Keys.ListVersionsAsync(key.Id);
        Assert.Equal([1, 2], versions.Select(v => v.Version));
        Assert.Equal(KeyVersionState.Deactivated, versions[0].State);
        Assert.Equal((Later, "tok-1"), (versions[0].StateChangedAt, versions[0].StateChangedBy));
        Assert.Equal(KeyVersionState.Active, versions[1].State);
        Assert.Equal((Later, "tok-1"), (versions[1].StateChangedAt, versions[1].StateChangedBy));
        Assert.Equal(Version(key, 2).Material, versions[1].Material);
    }

    [Fact]
    public async Task Rotating_with_an_activation_time_keeps_the_previous_version_Active_until_then()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var takesOver = Later.AddDays(1);

        Assert.True(await Keys.RotateAsync(key.Id, 1, Version(key, 2) with { State = KeyVersionState.PreActive, ActivatesAt = takesOver }, Later, "tok-1"));

        Assert.Equal(2, (await Keys.GetKeyAsync(key.Id))!.CurrentVersion);
        var versions = await Keys.ListVersionsAsync(key.Id);
        Assert.Equal(new VersionLifecycle(KeyVersionState.Active, DeactivatesAt: takesOver), versions[0].Lifecycle);
        Assert.Equal(new VersionLifecycle(KeyVersionState.PreActive, ActivatesAt: takesOver), versions[1].Lifecycle);
        await Assert.ThrowsAsync<ArgumentException>(() => Keys.RotateAsync(key.Id, 2, Version(key, 3) with { State = KeyVersionState.PreActive }, Later, "tok-1"));
    }

    [Fact]
    public async Task Rotating_away_from_a_Compromised_version_keeps_it_Compromised()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = NewKey(keyStore.Id);
        await Keys.CreateKeyAsync(key, FirstVersion(key, KeyVersionState.Compromised));

        await Keys.RotateAsync(key.Id, 1, Version(key, 2), Later, "tok-1");

        Assert.Equal(KeyVersionState.Compromised, (await Keys.ListVersionsAsync(key.Id))[0].State);
    }

    [Fact]
    public async Task Rotating_from_a_stale_current_version_is_a_conflict_and_writes_nothing()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        await Keys.RotateAsync(key.Id, 1, Version(key, 2), Later, "tok-1");
        var before = await Keys.ListVersionsAsync(key.Id);

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => Keys.RotateAsync(key.Id, 1, Version(key, 3), Later.AddDays(1), "tok-2"));

        Assert.Contains("current version is 2", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await Keys.GetKeyAsync(key.Id))!.CurrentVersion);
        Assert.Equal(before, await Keys.ListVersionsAsync(key.Id), VersionComparer.Instance);
    }

    [Fact]
    public async Task Rotating_a_missing_key_answers_false()
    {
        var key = NewKey("ks-none", id: "missing");

        Assert.False(await Keys.RotateAsync(key.Id, 1, Version(key, 2), Later, "tok-1"));
    }

    [Fact]
    public async Task Concurrent_rotations_from_one_version_have_exactly_one_winner()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var second = await OpenAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(
            () => Attempt(() => (i % 2 == 0 ? Keys : second.Keys).RotateAsync(key.Id, 1, Version(key, 2) with { Material = [(byte)i] }, Later, $"tok-{i}")))));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.IsType<ConflictException>(r));
        var versions = await Keys.ListVersionsAsync(key.Id);
        Assert.Equal(2, versions.Count);
        Assert.Equal([(byte)Array.FindIndex(results, r => r is null)], versions[1].Material);
    }

    [Fact]
    public async Task A_lifecycle_update_applies_when_the_stored_lifecycle_is_the_expected_one()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var expected = new VersionLifecycle(KeyVersionState.Active);
        var next = new VersionLifecycle(KeyVersionState.Deactivated, DestroysAt: Later.AddDays(30));

        Assert.True(await Keys.UpdateVersionLifecycleAsync(key.Id, 1, expected, next, Later, "tok-9"));

        var stored = Assert.Single(await Keys.ListVersionsAsync(key.Id));
        Assert.Equal(next, stored.Lifecycle);
        Assert.Equal((Later, "tok-9"), (stored.StateChangedAt, stored.StateChangedBy));
        Assert.Equal(FirstVersion(key).Material, stored.Material);
    }

    [Theory]
    [InlineData(KeyVersionState.Deactivated, false)]
    [InlineData(KeyVersionState.Active, true)]
    public async Task A_lifecycle_update_from_a_stale_lifecycle_is_a_conflict_and_writes_nothing(KeyVersionState expectedState, bool differsOnlyInTime)
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var stale = differsOnlyInTime ? new VersionLifecycle(expectedState, DeactivatesAt: Later) : new VersionLifecycle(expectedState);

        await Assert.ThrowsAsync<ConflictException>(() => Keys.UpdateVersionLifecycleAsync(
            key.Id, 1, stale, new VersionLifecycle(KeyVersionState.Compromised), Later, "tok-9"));

        var stored = Assert.Single(await Keys.ListVersionsAsync(key.Id));
        Assert.Equal(new VersionLifecycle(KeyVersionState.Active), stored.Lifecycle);
        Assert.Null(stored.StateChangedBy);
    }

    [Fact]
    public async Task A_lifecycle_update_of_a_missing_version_answers_false()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var active = new VersionLifecycle(KeyVersionState.Active);

        Assert.False(await Keys.UpdateVersionLifecycleAsync(key.Id, 2, active, active, Later, "tok-9"));
        Assert.False(await Keys.UpdateVersionLifecycleAsync("no-such-key", 1, active, active, Later, "tok-9"));
    }

    [Fact]
    public async Task Concurrent_lifecycle_updates_from_one_lifecycle_have_exactly_one_winner()
    {
        var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
        var second = await OpenAsync();
        var active = new VersionLifecycle(KeyVersionState.Active);

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => Attempt(() =>
            (i % 2 == 0 ? Keys : second.Keys).UpdateVersionLifecycleAsync(key.Id, 1, active,
                i % 3 == 0 ? new VersionLifecycle(KeyVersionState.Compromised) : new VersionLifecycle(KeyVersionState.Deactivated), Later, $"tok-{i}")))));

        Assert.Equal(1, results.Count(r => r is null));
        Assert.All(results.Where(r => r is not null), r => Assert.IsType<ConflictException>(r));
        Assert.Equal($"tok-{Array.FindIndex(results, r => r is null)}", Assert.Single(await Keys.ListVersionsAsync(key.Id)).StateChangedBy);
    }

    private sealed class VersionComparer : IEqualityComparer<KeyVersion>
    {
        public static readonly VersionComparer Instance = new();
        private static readonly byte[] NoMaterial = [];

        public bool Equals(KeyVersion? x, KeyVersion? y) =>
            x is not null && y is not null && x with { Material = NoMaterial } == y with { Material = NoMaterial } && x.Material.AsSpan().SequenceEqual(y.Material);

        public int GetHashCode(KeyVersion obj) => obj.Version;
    }
}
