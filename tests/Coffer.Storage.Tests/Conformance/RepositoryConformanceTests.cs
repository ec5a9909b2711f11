using Coffer.Auth;
using Coffer.Keys;
using Coffer.KeyStores;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>
/// The contract of the repository ports, run against every storage implementation (docs/style.md,
/// practice 10). A derived class supplies the factory; each test gets a fresh, empty database.
/// </summary>
public abstract partial class RepositoryConformanceTests : IAsyncLifetime
{
    // Not on a millisecond boundary and not in UTC: times must round-trip to the tick, as instants.
    protected static readonly DateTimeOffset T0 = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.FromHours(2)).AddTicks(1_234_567);

    private readonly List<OpenedStorage> _opened = [];
    private int _sequence;

    protected RepositoryConformanceTests(IStorageFactory factory) => Factory = factory;

    protected IStorageFactory Factory { get; }

    protected OpenedStorage Store { get; private set; } = null!;

    protected IKeyStoreRepository KeyStores => Store.KeyStores;

    protected IKeyRepository Keys => Store.Keys;

    protected ISystemRepository SystemRepository => Store.System;

    protected IAuditRepository Audit => Store.Audit;

    protected IAlertRepository Alerts => Store.Alerts;
    protected IRotationRepository Rotation => Store.Rotation;

    protected IPrincipalRepository Principals => Store.Principals;

    public async Task InitializeAsync() => Store = await OpenAsync();

    public Task DisposeAsync()
    {
        foreach (var storage in _opened)
        {
            storage.Dispose();
        }

        Factory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Opens the same database again (a restart, or another node).</summary>
    protected async Task<OpenedStorage> OpenAsync()
    {
        var storage = await Factory.OpenAsync();
        _opened.Add(storage);
        return storage;
    }

    protected string NextId(string prefix) => $"{prefix}-{Interlocked.Increment(ref _sequence):D4}";

    protected KeyStore NewKeyStore(string? name = null, string? prefix = null)
    {
        var id = NextId("ks");
        return new KeyStore(id, name ?? $"store {id}", UriPrefix.Parse(prefix ?? "/" + id), T0);
    }

    protected async Task<KeyStore> CreateKeyStoreAsync(string? name = null, string? prefix = null)
    {
        var keyStore = NewKeyStore(name, prefix);
        await KeyStores.CreateKeyStoreAsync(keyStore);
        return keyStore;
    }

    protected ManagedKey NewKey(
        string keyStoreId,
        string? externalId = null,
        string description = "",
        IReadOnlyDictionary<string, string>? tags = null,
        bool enabled = true,
        string? id = null)
    {
        id ??= NextId("key");
        return new ManagedKey(
            id,
            keyStoreId,
            externalId ?? "ext-" + id,
            description,
            tags ?? new Dictionary<string, string>(),
            KeyUsage.EncryptDecrypt,
            enabled,
            CurrentVersion: 1,
            T0);
    }

    protected static KeyVersion FirstVersion(ManagedKey key, KeyVersionState state = KeyVersionState.Active) =>
        new(key.Id, 1, state, "software", [1, 2, 3, (byte)key.Id.Length, 0, 255], T0.AddMinutes(1));

    protected async Task<ManagedKey> CreateKeyAsync(
        string keyStoreId,
        string? externalId = null,
        string description = "",
        IReadOnlyDictionary<string, string>? tags = null,
        bool enabled = true)
    {
        var key = NewKey(keyStoreId, externalId, description, tags, enabled);
        await Keys.CreateKeyAsync(key, FirstVersion(key));
        return key;
    }

    protected static ApiToken NewToken(string id, byte fill, DateTimeOffset? expiresAt = null, DateTimeOffset? revokedAt = null, string role = "administrator") =>
        new(id, "token " + id, Enumerable.Repeat(fill, 32).ToArray(), role, T0, expiresAt, revokedAt);

    protected static void AssertSame(KeyStore expected, KeyStore? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Prefix, actual.Prefix);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.Backend, actual.Backend);
    }

    protected static void AssertSame(Credential expected, Credential? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.KeyStoreId, actual.KeyStoreId);
        Assert.Equal(expected.AccessKeyId, actual.AccessKeyId);
        Assert.Equal(expected.SealedSecret, actual.SealedSecret);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.RevokedAt, actual.RevokedAt);
    }

    protected static void AssertSame(ManagedKey expected, ManagedKey? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.KeyStoreId, actual.KeyStoreId);
        Assert.Equal(expected.ExternalId, actual.ExternalId);
        Assert.Equal(expected.Description, actual.Description);
        Assert.Equal(expected.Tags.OrderBy(t => t.Key, StringComparer.Ordinal), actual.Tags.OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Usage, actual.Usage);
        Assert.Equal(expected.Enabled, actual.Enabled);
        Assert.Equal(expected.CurrentVersion, actual.CurrentVersion);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
    }

    protected static void AssertSame(KeyVersion expected, KeyVersion? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.KeyId, actual.KeyId);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.State, actual.State);
        Assert.Equal(expected.Backend, actual.Backend);
        Assert.Equal(expected.Material, actual.Material);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
    }

    protected static void AssertSame(ApiToken expected, ApiToken? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Hash, actual.Hash);
        Assert.Equal(expected.Role, actual.Role);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.ExpiresAt, actual.ExpiresAt);
        Assert.Equal(expected.RevokedAt, actual.RevokedAt);
    }
}
