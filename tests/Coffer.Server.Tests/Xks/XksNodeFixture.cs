using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.KeyStores;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// One real dev node per test class (xunit class fixture): started once, shared by tests that do not
/// interfere (each test makes its own keys, key stores and credentials through the management API).
/// The suite runs on <see cref="SoftwareXksNode"/> (keys sealed under the master key), on
/// <see cref="Pkcs11XksNode"/> (the demo key store, and every key store a test makes, in a SoftHSM2
/// token), and the shared-node part again on <see cref="PostgresXksNode"/> (storage on PostgreSQL);
/// see Backends.cs.
/// </summary>
public abstract class XksNodeFixture(string backend) : IAsyncLifetime
{
    public DevServer Node { get; private set; } = null!;

    /// <summary>The backend of the demo key store and of the key stores the tests make.</summary>
    public string Backend { get; } = backend;

    /// <summary>The demo key store (<c>/demo</c>) signed by AWSSDK's AWS4Signer.</summary>
    public XksClient Client { get; private set; } = null!;

    public string DemoKey => Node.Info.KeyId;

    public string DemoKeyStoreId { get; private set; } = null!;

    protected virtual void Configure(CofferOptions options)
    {
    }

    /// <summary>Before the node starts (e.g. its database made).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await PrepareAsync();
        Node = await DevServer.StartAsync(Configure, backend: Backend);
        Assert.Equal(Backend, Node.Backend);
        // A pkcs11 node found its token at start (event 1103 says it did not).
        Assert.DoesNotContain(Node.Logs.Lines, l => l.Contains("[1103]", StringComparison.Ordinal));
        Client = XksClient.For(Node);
        DemoKeyStoreId = await Node.KeyStoreIdAsync(Node.Info.UriPrefix);
        AssertStarted(Node);
    }

    /// <summary>What a started node of this kind must show.</summary>
    protected virtual void AssertStarted(DevServer node)
    {
    }

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>A node whose key stores keep their keys sealed under the master key.</summary>
public sealed class SoftwareXksNode() : XksNodeFixture(KeyStoreBackends.Software);

/// <summary>A node with its own SoftHSM2 token; its key stores keep their keys in the token.</summary>
public sealed class Pkcs11XksNode() : XksNodeFixture(KeyStoreBackends.Pkcs11);

/// <summary>A software node whose storage is a database of its own on the tests' PostgreSQL server
/// (<c>"Storage": {"Engine": "postgres"}</c>) instead of the SQLite file.</summary>
public sealed class PostgresXksNode() : XksNodeFixture(KeyStoreBackends.Software)
{
    private string _connectionString = "";

    protected override async Task PrepareAsync() => _connectionString = await new PostgresFixture().CreateDatabaseAsync();

    protected override void Configure(CofferOptions options)
    {
        options.Storage.Engine = StorageOptions.Postgres;
        options.Storage.ConnectionString = _connectionString;
    }

    // The suite must not pass on a SQLite file by mistake.
    protected override void AssertStarted(DevServer node) => Assert.False(File.Exists(Path.Combine(node.DataDirectory, "coffer.db")));
}

/// <summary>A key store made for a test, with one credential and a client signed by it.</summary>
public sealed record TestKeyStore(string Id, string Prefix, string CredentialId, XksClient Client);

/// <summary>A credential as the management API shows it once.</summary>
public sealed record TestCredential(string Id, string AccessKeyId, string SecretAccessKey);

/// <summary>The management API calls the XKS tests need to set a node up (src/Coffer.Server/Management).</summary>
public static class Admin
{
    public static string Unique(string stem) => $"{stem}-{Guid.NewGuid().ToString("N")[..10]}";

    public static async Task<string> KeyStoreIdAsync(this DevServer node, string prefix)
    {
        var stores = await node.Admin.GetFromJsonAsync<JsonArray>("/api/v1/keystores");
        return stores!.Single(s => (string?)s!["uriPrefix"] == prefix)!["id"]!.GetValue<string>();
    }

    /// <summary>Creates a key store at <paramref name="prefix"/> with one credential, in
    /// <paramref name="backend"/> (by default the backend of the node's demo key store).</summary>
    public static async Task<TestKeyStore> CreateKeyStoreAsync(this DevServer node, string prefix, string? name = null, string? backend = null)
    {
        var store = await PostAsync(node, "/api/v1/keystores", new JsonObject
        {
            ["name"] = name ?? Unique("ks"),
            ["uriPrefix"] = prefix,
            ["backend"] = backend ?? node.Backend,
        });
        Assert.Equal(backend ?? node.Backend, store["backend"]!.GetValue<string>());
        var id = store["id"]!.GetValue<string>();
        var credential = await node.AddCredentialAsync(id);
        var baseUrl = new Uri(node.XksUrl.AbsoluteUri.TrimEnd('/') + store["xksProxyUriPath"]!.GetValue<string>());
        return new TestKeyStore(id, store["uriPrefix"]!.GetValue<string>(), credential.Id,
            new XksClient(baseUrl, credential.AccessKeyId, credential.SecretAccessKey));
    }

    /// <summary>Releases every kill switch still engaged: after each test of a class whose tests share
    /// a node and engage switches, so the next test starts on a node that serves every call.</summary>
    public static async Task ReleaseEngagedKillSwitchesAsync(this DevServer node)
    {
        foreach (var engaged in (await node.Admin.GetFromJsonAsync<JsonArray>("/api/v1/kill-switches"))!)
        {
            using var release = await node.Admin.PostAsync($"/api/v1/kill-switches/{(string)engaged!["id"]!}/release", null);
            await EnsureAsync(release);
        }
    }

    public static async Task<TestCredential> AddCredentialAsync(this DevServer node, string keyStoreId)
    {
        var created = await PostAsync(node, $"/api/v1/keystores/{keyStoreId}/credentials", new JsonObject());
        return new TestCredential(created["id"]!.GetValue<string>(), created["accessKeyId"]!.GetValue<string>(),
            created["secretAccessKey"]!.GetValue<string>());
    }

    public static async Task RevokeCredentialAsync(this DevServer node, string keyStoreId, string credentialId)
    {
        using var response = await node.Admin.DeleteAsync($"/api/v1/keystores/{keyStoreId}/credentials/{credentialId}");
        await EnsureAsync(response);
    }

    /// <summary>Creates key <paramref name="name"/> (the externalKeyId); returns its internal id.</summary>
    public static async Task<string> CreateKeyAsync(this DevServer node, string keyStoreId, string name, params string[] usage)
    {
        var key = await PostAsync(node, $"/api/v1/keystores/{keyStoreId}/keys", new JsonObject
        {
            ["name"] = name,
            ["description"] = "made by the XKS integration tests",
            ["usage"] = new JsonArray([.. usage.Select(u => (JsonNode?)JsonValue.Create(u))]),
        });
        return key["id"]!.GetValue<string>();
    }

    public static async Task SetKeyEnabledAsync(this DevServer node, string keyId, bool enabled)
    {
        using var response = await node.Admin.PostAsync($"/api/v1/keys/{keyId}/{(enabled ? "enable" : "disable")}", null);
        await EnsureAsync(response);
    }

    private static async Task<JsonNode> PostAsync(DevServer node, string path, JsonObject body)
    {
        using var response = await node.Admin.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        await EnsureAsync(response);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task EnsureAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
