using Coffer.KeyStores;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task A_created_key_store_round_trips_every_field()
    {
        var keyStore = new KeyStore("ks-a", "Frankfurt tenant", UriPrefix.Parse("/eu/fra_1-a"), T0, KeyStoreBackends.Pkcs11);

        await KeyStores.CreateKeyStoreAsync(keyStore);

        AssertSame(keyStore, await KeyStores.GetKeyStoreAsync("ks-a"));
        AssertSame(keyStore, Assert.Single(await KeyStores.ListKeyStoresAsync()));
    }

    [Fact]
    public async Task A_key_store_with_the_empty_prefix_round_trips()
    {
        var keyStore = new KeyStore("ks-root", "root", UriPrefix.Empty, T0);

        await KeyStores.CreateKeyStoreAsync(keyStore);

        var read = await KeyStores.GetKeyStoreAsync("ks-root");
        AssertSame(keyStore, read);
        Assert.Equal("/kms/xks/v1", read!.Prefix.XksProxyUriPath);
        Assert.Equal(KeyStoreBackends.Software, read.Backend);
    }

    [Fact]
    public async Task Creating_a_key_store_with_a_taken_prefix_is_a_conflict()
    {
        await CreateKeyStoreAsync(prefix: "/x");

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => KeyStores.CreateKeyStoreAsync(NewKeyStore(prefix: "/x")));

        Assert.Equal("a key store with prefix '/x' already exists", conflict.Message);
        Assert.Equal(1, await KeyStores.CountKeyStoresAsync());
    }

    [Fact]
    public async Task Creating_a_second_key_store_with_the_empty_prefix_is_a_conflict()
    {
        await CreateKeyStoreAsync(prefix: "");

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => KeyStores.CreateKeyStoreAsync(NewKeyStore(prefix: "")));

        Assert.Contains("empty prefix", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creating_a_key_store_with_a_taken_name_is_a_conflict()
    {
        await CreateKeyStoreAsync(name: "payments");

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => KeyStores.CreateKeyStoreAsync(NewKeyStore(name: "payments")));

        Assert.Equal("a key store named 'payments' already exists", conflict.Message);
    }

    [Fact]
    public async Task Creating_a_key_store_with_a_taken_id_is_a_conflict()
    {
        var first = await CreateKeyStoreAsync();

        var conflict = await Assert.ThrowsAsync<ConflictException>(
            () => KeyStores.CreateKeyStoreAsync(new KeyStore(first.Id, "other name", UriPrefix.Parse("/other"), T0)));

        Assert.Contains(first.Id, conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_and_counting_key_stores_sees_every_one()
    {
        Assert.Empty(await KeyStores.ListKeyStoresAsync());
        Assert.Equal(0, await KeyStores.CountKeyStoresAsync());

        var created = new[] { await CreateKeyStoreAsync("b"), await CreateKeyStoreAsync("a"), await CreateKeyStoreAsync("c") };

        var listed = await KeyStores.ListKeyStoresAsync();
        Assert.Equal(["a", "b", "c"], listed.Select(k => k.Name));
        Assert.Equal(3, await KeyStores.CountKeyStoresAsync());
        foreach (var keyStore in created)
        {
            AssertSame(keyStore, listed.Single(k => k.Id == keyStore.Id));
        }
    }

    [Fact]
    public async Task Getting_a_missing_key_store_returns_null()
    {
        Assert.Null(await KeyStores.GetKeyStoreAsync("nope"));
    }

    [Fact]
    public async Task Deleting_a_missing_key_store_is_NotFound()
    {
        Assert.Equal(DeleteOutcome.NotFound, await KeyStores.DeleteKeyStoreAsync("nope"));
    }

    [Fact]
    public async Task Deleting_a_key_store_that_has_keys_is_NotEmpty_and_changes_nothing()
    {
        var keyStore = await CreateKeyStoreAsync();
        await KeyStores.AddCredentialAsync(new Credential("cred-1", keyStore.Id, "AKIA1", [9], T0, null));
        await CreateKeyAsync(keyStore.Id);

        Assert.Equal(DeleteOutcome.NotEmpty, await KeyStores.DeleteKeyStoreAsync(keyStore.Id));

        Assert.NotNull(await KeyStores.GetKeyStoreAsync(keyStore.Id));
        Assert.Single(await KeyStores.ListCredentialsAsync(keyStore.Id));
        Assert.Equal(1, await Keys.CountKeysAsync(keyStore.Id));
    }

    [Fact]
    public async Task Deleting_an_empty_key_store_deletes_it_and_its_credentials()
    {
        var keyStore = await CreateKeyStoreAsync(name: "gone", prefix: "/gone");
        var other = await CreateKeyStoreAsync();
        await KeyStores.AddCredentialAsync(new Credential("cred-1", keyStore.Id, "AKIA1", [9], T0, null));
        await KeyStores.AddCredentialAsync(new Credential("cred-2", keyStore.Id, "AKIA2", [9], T0, T0));
        await KeyStores.AddCredentialAsync(new Credential("cred-3", other.Id, "AKIA3", [9], T0, null));

        Assert.Equal(DeleteOutcome.Deleted, await KeyStores.DeleteKeyStoreAsync(keyStore.Id));

        Assert.Null(await KeyStores.GetKeyStoreAsync(keyStore.Id));
        Assert.Empty(await KeyStores.ListCredentialsAsync(keyStore.Id));
        Assert.Equal("cred-3", Assert.Single(await KeyStores.ListCredentialsAsync(null)).Id);
        Assert.Equal(DeleteOutcome.NotFound, await KeyStores.DeleteKeyStoreAsync(keyStore.Id));

        // Its name, prefix and access key ids are free again.
        await KeyStores.CreateKeyStoreAsync(NewKeyStore(name: "gone", prefix: "/gone"));
        await KeyStores.AddCredentialAsync(new Credential("cred-4", other.Id, "AKIA1", [9], T0, null));
    }

    [Fact]
    public async Task A_credential_round_trips_every_field()
    {
        var keyStore = await CreateKeyStoreAsync();
        byte[] sealedSecret = [0, 1, 2, 0x80, 0xFF, 0];
        var live = new Credential("cred-live", keyStore.Id, "AKIAEXAMPLE0001", sealedSecret, T0, null);
        var revoked = new Credential("cred-revoked", keyStore.Id, "AKIAEXAMPLE0002", [42], T0.AddSeconds(1), T0.AddDays(3).AddTicks(7));

        await KeyStores.AddCredentialAsync(live);
        await KeyStores.AddCredentialAsync(revoked);

        var listed = await KeyStores.ListCredentialsAsync(keyStore.Id);
        Assert.Equal(2, listed.Count);
        AssertSame(live, listed.Single(c => c.Id == live.Id));
        AssertSame(revoked, listed.Single(c => c.Id == revoked.Id));
        Assert.True(listed.Single(c => c.Id == live.Id).IsLive);
        Assert.False(listed.Single(c => c.Id == revoked.Id).IsLive);
    }

    [Fact]
    public async Task Adding_a_credential_with_a_taken_access_key_id_is_a_conflict()
    {
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();
        await KeyStores.AddCredentialAsync(new Credential("cred-1", first.Id, "AKIATAKEN", [1], T0, null));

        var conflict = await Assert.ThrowsAsync<ConflictException>(
            () => KeyStores.AddCredentialAsync(new Credential("cred-2", second.Id, "AKIATAKEN", [1], T0, null)));

        Assert.Equal("a credential with access key id 'AKIATAKEN' already exists", conflict.Message);
        Assert.Empty(await KeyStores.ListCredentialsAsync(second.Id));
    }

    [Fact]
    public async Task Adding_a_credential_to_a_missing_key_store_is_a_conflict()
    {
        var conflict = await Assert.ThrowsAsync<ConflictException>(
            () => KeyStores.AddCredentialAsync(new Credential("cred-1", "no-such-store", "AKIA1", [1], T0, null)));

        Assert.Contains("no-such-store", conflict.Message, StringComparison.Ordinal);
        Assert.Empty(await KeyStores.ListCredentialsAsync(null));
    }

    [Fact]
    public async Task Listing_credentials_filters_by_key_store_and_includes_revoked_ones()
    {
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();
        await KeyStores.AddCredentialAsync(new Credential("c1", first.Id, "AK1", [1], T0, null));
        await KeyStores.AddCredentialAsync(new Credential("c2", first.Id, "AK2", [1], T0.AddSeconds(1), T0));
        await KeyStores.AddCredentialAsync(new Credential("c3", second.Id, "AK3", [1], T0.AddSeconds(2), null));

        Assert.Equal(["c1", "c2"], (await KeyStores.ListCredentialsAsync(first.Id)).Select(c => c.Id));
        Assert.Equal(["c3"], (await KeyStores.ListCredentialsAsync(second.Id)).Select(c => c.Id));
        Assert.Equal(["c1", "c2", "c3"], (await KeyStores.ListCredentialsAsync(null)).Select(c => c.Id).Order(StringComparer.Ordinal));
        Assert.Empty(await KeyStores.ListCredentialsAsync("no-such-store"));
    }

    [Fact]
    public async Task Revoking_a_credential_twice_keeps_the_first_time_and_reports_false()
    {
        var keyStore = await CreateKeyStoreAsync();
        await KeyStores.AddCredentialAsync(new Credential("cred-1", keyStore.Id, "AKIA1", [1], T0, null));
        var revokedAt = T0.AddHours(5).AddTicks(3);

        Assert.True(await KeyStores.RevokeCredentialAsync(keyStore.Id, "cred-1", revokedAt));
        Assert.False(await KeyStores.RevokeCredentialAsync(keyStore.Id, "cred-1", revokedAt.AddHours(1)));

        Assert.Equal(revokedAt, Assert.Single(await KeyStores.ListCredentialsAsync(keyStore.Id)).RevokedAt);
    }

    [Fact]
    public async Task Revoking_a_missing_credential_or_through_another_key_store_reports_false()
    {
        var keyStore = await CreateKeyStoreAsync();
        var other = await CreateKeyStoreAsync();
        await KeyStores.AddCredentialAsync(new Credential("cred-1", keyStore.Id, "AKIA1", [1], T0, null));

        Assert.False(await KeyStores.RevokeCredentialAsync(keyStore.Id, "no-such-credential", T0));
        Assert.False(await KeyStores.RevokeCredentialAsync(other.Id, "cred-1", T0));

        Assert.Null(Assert.Single(await KeyStores.ListCredentialsAsync(keyStore.Id)).RevokedAt);
    }
}
