using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// Logical key stores (XKS spec, "API operations": the URI prefix selects an isolated tenant): each
/// prefix has its own credentials and keys, and none leaks into another — the empty prefix included.
/// </summary>
public abstract class KeyStoreTests(XksNodeFixture fixture)
{
    private readonly XksClient _demo = fixture.Client;

    private DevServer Node => fixture.Node;

    [Fact]
    public async Task A_second_key_store_serves_its_own_keys_under_its_own_prefix()
    {
        var store = await Node.CreateKeyStoreAsync("/" + Admin.Unique("tenant"));
        await Node.CreateKeyAsync(store.Id, "tenant-key", "ENCRYPT", "DECRYPT");
        var plaintext = RandomNumberGenerator.GetBytes(32);

        var sealedData = await store.Client.MustEncryptAsync("tenant-key", plaintext);

        Assert.Equal(plaintext, (await store.Client.DecryptAsync("tenant-key", sealedData)).Bytes("plaintext"));
    }

    [Fact]
    public async Task Keys_of_one_key_store_are_not_found_under_another_prefix()
    {
        var store = await Node.CreateKeyStoreAsync("/" + Admin.Unique("tenant"));
        var own = Admin.Unique("own");
        await Node.CreateKeyAsync(store.Id, own, "ENCRYPT", "DECRYPT");

        XksAssert.Error(await store.Client.GetKeyMetadataAsync(fixture.DemoKey), 404, "KeyNotFoundException");
        XksAssert.Error(await _demo.GetKeyMetadataAsync(own), 404, "KeyNotFoundException");
    }

    [Fact]
    public async Task Keys_with_the_same_name_in_two_key_stores_are_different_keys()
    {
        var store = await Node.CreateKeyStoreAsync("/" + Admin.Unique("tenant"));
        await Node.CreateKeyAsync(store.Id, fixture.DemoKey, "ENCRYPT", "DECRYPT");
        var sealedData = await _demo.MustEncryptAsync(fixture.DemoKey, [1, 2, 3]);

        XksAssert.Error(await store.Client.DecryptAsync(fixture.DemoKey, sealedData), 400, "InvalidCiphertextException");
        XksAssert.Ok(await _demo.DecryptAsync(fixture.DemoKey, sealedData));
    }

    [Fact]
    public async Task Credentials_work_only_on_the_prefix_of_their_own_key_store()
    {
        var store = await Node.CreateKeyStoreAsync("/" + Admin.Unique("tenant"));

        XksAssert.Error(await (_demo with { BaseUrl = store.Client.BaseUrl }).HealthAsync(), 401, "AuthenticationFailedException");
        XksAssert.Error(await (store.Client with { BaseUrl = _demo.BaseUrl }).HealthAsync(), 401, "AuthenticationFailedException");
        XksAssert.Ok(await store.Client.HealthAsync());
    }

    [Fact]
    public async Task Nested_prefix_is_served()
    {
        var store = await Node.CreateKeyStoreAsync($"/{Admin.Unique("org")}/{Admin.Unique("team")}");
        await Node.CreateKeyAsync(store.Id, "nested-key", "ENCRYPT", "DECRYPT");

        XksAssert.Ok(await store.Client.GetKeyMetadataAsync("nested-key"));
        var parent = store.Client with { BaseUrl = new Uri(Node.XksUrl, store.Prefix[..store.Prefix.LastIndexOf('/')] + "/kms/xks/v1") };
        XksAssert.Error(await parent.HealthAsync(), 404, "InvalidUriPathException");
    }

    [Fact]
    public async Task Deleted_key_store_prefix_is_InvalidUriPathException_at_once()
    {
        var store = await Node.CreateKeyStoreAsync("/" + Admin.Unique("gone"));
        XksAssert.Ok(await store.Client.HealthAsync());

        using var deleted = await Node.Admin.DeleteAsync($"/api/v1/keystores/{store.Id}");

        Assert.True(deleted.IsSuccessStatusCode, $"{(int)deleted.StatusCode} {await deleted.Content.ReadAsStringAsync()}");
        XksAssert.Error(await store.Client.HealthAsync(), 404, "InvalidUriPathException");
    }

    [Fact]
    public async Task Prefix_that_contains_the_xks_suffix_is_refused_or_served()
    {
        // XksRoute splits at the FIRST "/kms/xks/v1/" and relies on prefixes never containing it;
        // UriPrefix.TryParse only refuses prefixes that END with it. A store the management API
        // accepts must be reachable by AWS KMS at its XksProxyUriPath.
        var prefix = "/kms/xks/v1/" + Admin.Unique("t");
        using var created = await Node.Admin.PostAsJsonAsync("/api/v1/keystores", new { name = Admin.Unique("ks"), uriPrefix = prefix });
        if (!created.IsSuccessStatusCode)
        {
            Assert.Equal(400, (int)created.StatusCode);
            return;
        }

        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var credential = await Node.AddCredentialAsync(id);
        var client = new XksClient(new Uri(Node.XksUrl, prefix + "/kms/xks/v1"), credential.AccessKeyId, credential.SecretAccessKey);

        XksAssert.Ok(await client.HealthAsync());
    }
}

/// <summary>The empty prefix (<c>/kms/xks/v1</c> at the root) beside <c>/demo</c>. A node per test
/// (IAsyncLifetime on the class), since only one key store can own the empty prefix.</summary>
public abstract class EmptyPrefixKeyStoreTests(string backend) : IAsyncLifetime
{
    private DevServer _node = null!;
    private TestKeyStore _root = null!;
    private XksClient _demo = null!;

    public async Task InitializeAsync()
    {
        _node = await DevServer.StartAsync(backend: backend);
        _demo = XksClient.For(_node);
        _root = await _node.CreateKeyStoreAsync("");
        await _node.CreateKeyAsync(_root.Id, "root-key", "ENCRYPT", "DECRYPT");
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Empty_prefix_key_store_is_served_at_kms_xks_v1()
    {
        Assert.Equal("", _root.Prefix);
        Assert.Equal("/kms/xks/v1", _root.Client.BaseUrl.AbsolutePath);
        var plaintext = RandomNumberGenerator.GetBytes(32);

        var sealedData = await _root.Client.MustEncryptAsync("root-key", plaintext);

        Assert.Equal(plaintext, (await _root.Client.DecryptAsync("root-key", sealedData)).Bytes("plaintext"));
        XksAssert.Ok(await _root.Client.HealthAsync());
    }

    [Fact]
    public async Task Empty_prefix_and_demo_prefix_do_not_share_keys()
    {
        XksAssert.Error(await _root.Client.GetKeyMetadataAsync(_node.Info.KeyId), 404, "KeyNotFoundException");
        XksAssert.Error(await _demo.GetKeyMetadataAsync("root-key"), 404, "KeyNotFoundException");
    }

    [Fact]
    public async Task Empty_prefix_and_demo_prefix_do_not_share_credentials()
    {
        XksAssert.Error(await (_demo with { BaseUrl = _root.Client.BaseUrl }).HealthAsync(), 401, "AuthenticationFailedException");
        XksAssert.Error(await (_root.Client with { BaseUrl = _demo.BaseUrl }).HealthAsync(), 401, "AuthenticationFailedException");
    }

    [Fact]
    public async Task Ciphertext_of_the_empty_prefix_key_store_does_not_decrypt_under_demo()
    {
        await _node.CreateKeyAsync(await _node.KeyStoreIdAsync("/demo"), "root-key", "ENCRYPT", "DECRYPT");
        var sealedData = await _root.Client.MustEncryptAsync("root-key", [1, 2, 3]);

        XksAssert.Error(await _demo.DecryptAsync("root-key", sealedData), 400, "InvalidCiphertextException");
    }
}
