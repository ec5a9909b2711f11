using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task A_created_key_and_its_first_version_round_trip_every_field()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = new ManagedKey(
            "key-1",
            keyStore.Id,
            "Orders.2025_v1-a",
            "Payments — ключ für Bestellungen \"quoted\"",
            new Dictionary<string, string> { ["team"] = "payments", ["cost-centre"] = "4711", ["émoji"] = "🔑", ["empty"] = "" },
            KeyUsage.Encrypt,
            Enabled: false,
            CurrentVersion: 1,
            T0);
        var version = new KeyVersion("key-1", 1, KeyVersionState.PreActive, "pkcs11", [0, 0xFF, 0x10, 0, 0x7F], T0.AddTicks(1));

        await Keys.CreateKeyAsync(key, version);

        AssertSame(key, await Keys.GetKeyAsync("key-1"));
        AssertSame(key, await Keys.FindKeyAsync(keyStore.Id, "Orders.2025_v1-a"));
        AssertSame(version, Assert.Single(await Keys.ListVersionsAsync("key-1")));
    }

    [Theory]
    [InlineData(KeyVersionState.PreActive)]
    [InlineData(KeyVersionState.Active)]
    [InlineData(KeyVersionState.Deactivated)]
    [InlineData(KeyVersionState.Compromised)]
    [InlineData(KeyVersionState.Destroyed)]
    public async Task Every_version_state_round_trips(KeyVersionState state)
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = NewKey(keyStore.Id);

        await Keys.CreateKeyAsync(key, FirstVersion(key, state));

        Assert.Equal(state, Assert.Single(await Keys.ListVersionsAsync(key.Id)).State);
    }

    [Theory]
    [InlineData(KeyUsage.None)]
    [InlineData(KeyUsage.Encrypt)]
    [InlineData(KeyUsage.Decrypt)]
    [InlineData(KeyUsage.EncryptDecrypt)]
    public async Task Every_key_usage_round_trips(KeyUsage usage)
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = NewKey(keyStore.Id) with { Usage = usage };

        await Keys.CreateKeyAsync(key, FirstVersion(key));

        Assert.Equal(usage, (await Keys.GetKeyAsync(key.Id))!.Usage);
    }

    [Fact]
    public async Task A_key_without_tags_reads_back_with_no_tags()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = await CreateKeyAsync(keyStore.Id);

        Assert.Empty((await Keys.GetKeyAsync(key.Id))!.Tags);
    }

    [Fact]
    public async Task Creating_a_key_with_a_taken_external_id_is_a_conflict_and_writes_nothing()
    {
        var keyStore = await CreateKeyStoreAsync();
        var original = await CreateKeyAsync(keyStore.Id, externalId: "orders");
        var duplicate = NewKey(keyStore.Id, externalId: "orders");

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => Keys.CreateKeyAsync(duplicate, FirstVersion(duplicate)));

        Assert.Equal($"a key with external id 'orders' already exists in key store '{keyStore.Id}'", conflict.Message);
        Assert.Null(await Keys.GetKeyAsync(duplicate.Id));
        Assert.Empty(await Keys.ListVersionsAsync(duplicate.Id));
        var all = await Keys.LoadAllAsync();
        Assert.Equal(original.Id, Assert.Single(all).Key.Id);
        Assert.Single(all[0].Versions);
    }

    [Fact]
    public async Task Creating_a_key_with_a_taken_id_is_a_conflict_and_keeps_the_original_version()
    {
        var keyStore = await CreateKeyStoreAsync();
        var original = await CreateKeyAsync(keyStore.Id);
        var duplicate = NewKey(keyStore.Id, externalId: "another", id: original.Id);
        var otherVersion = FirstVersion(duplicate) with { Material = [7, 7, 7] };

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => Keys.CreateKeyAsync(duplicate, otherVersion));

        Assert.Contains(original.Id, conflict.Message, StringComparison.Ordinal);
        AssertSame(original, await Keys.GetKeyAsync(original.Id));
        AssertSame(FirstVersion(original), Assert.Single(await Keys.ListVersionsAsync(original.Id)));
    }

    [Fact]
    public async Task Creating_a_key_in_a_missing_key_store_is_a_conflict_and_writes_nothing()
    {
        var key = NewKey("no-such-store");

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => Keys.CreateKeyAsync(key, FirstVersion(key)));

        Assert.Contains("no-such-store", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(0, await Keys.CountKeysAsync(null));
        Assert.Empty(await Keys.ListVersionsAsync(key.Id));
    }

    [Fact]
    public async Task Creating_a_key_with_a_version_of_another_key_is_refused()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = NewKey(keyStore.Id);
        var other = NewKey(keyStore.Id);

        await Assert.ThrowsAsync<ArgumentException>(() => Keys.CreateKeyAsync(key, FirstVersion(other)));

        Assert.Equal(0, await Keys.CountKeysAsync(null));
    }

    [Fact]
    public async Task The_same_external_id_may_be_used_in_two_key_stores()
    {
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();

        var a = await CreateKeyAsync(first.Id, externalId: "shared");
        var b = await CreateKeyAsync(second.Id, externalId: "shared");

        Assert.Equal(a.Id, (await Keys.FindKeyAsync(first.Id, "shared"))!.Id);
        Assert.Equal(b.Id, (await Keys.FindKeyAsync(second.Id, "shared"))!.Id);
    }

    [Fact]
    public async Task Getting_finding_or_listing_versions_of_a_missing_key_finds_nothing()
    {
        var keyStore = await CreateKeyStoreAsync();
        await CreateKeyAsync(keyStore.Id, externalId: "present");

        Assert.Null(await Keys.GetKeyAsync("no-such-key"));
        Assert.Null(await Keys.FindKeyAsync(keyStore.Id, "absent"));
        Assert.Null(await Keys.FindKeyAsync("no-such-store", "present"));
        Assert.Empty(await Keys.ListVersionsAsync("no-such-key"));
    }

    [Fact]
    public async Task External_ids_are_matched_exactly_including_case()
    {
        var keyStore = await CreateKeyStoreAsync();
        await CreateKeyAsync(keyStore.Id, externalId: "Orders");

        Assert.Null(await Keys.FindKeyAsync(keyStore.Id, "orders"));
        await CreateKeyAsync(keyStore.Id, externalId: "orders");
        Assert.Equal(2, await Keys.CountKeysAsync(keyStore.Id));
    }

    [Fact]
    public async Task Setting_enabled_switches_the_key_and_reports_missing_keys()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = await CreateKeyAsync(keyStore.Id);

        Assert.True(await Keys.SetEnabledAsync(key.Id, false));
        Assert.False((await Keys.GetKeyAsync(key.Id))!.Enabled);
        Assert.True(await Keys.SetEnabledAsync(key.Id, false));
        Assert.False((await Keys.GetKeyAsync(key.Id))!.Enabled);
        Assert.True(await Keys.SetEnabledAsync(key.Id, true));
        Assert.True((await Keys.GetKeyAsync(key.Id))!.Enabled);
        Assert.False(await Keys.SetEnabledAsync("no-such-key", true));
    }

    [Fact]
    public async Task Counting_keys_counts_all_of_them_or_one_key_store()
    {
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();
        for (var i = 0; i < 3; i++)
        {
            await CreateKeyAsync(first.Id);
        }

        await CreateKeyAsync(second.Id);

        Assert.Equal(4, await Keys.CountKeysAsync(null));
        Assert.Equal(3, await Keys.CountKeysAsync(first.Id));
        Assert.Equal(1, await Keys.CountKeysAsync(second.Id));
        Assert.Equal(0, await Keys.CountKeysAsync("no-such-store"));
    }

    [Fact]
    public async Task Loading_all_returns_every_key_with_its_versions()
    {
        Assert.Empty(await Keys.LoadAllAsync());
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();
        var keys = new[]
        {
            await CreateKeyAsync(first.Id, tags: new Dictionary<string, string> { ["a"] = "1" }),
            await CreateKeyAsync(first.Id, enabled: false),
            await CreateKeyAsync(second.Id),
        };

        var all = await Keys.LoadAllAsync();

        Assert.Equal(keys.Length, all.Count);
        foreach (var key in keys)
        {
            var (loaded, versions) = all.Single(entry => entry.Key.Id == key.Id);
            AssertSame(key, loaded);
            AssertSame(FirstVersion(key), Assert.Single(versions));
        }
    }
}
