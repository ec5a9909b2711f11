using Coffer.Keys;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed partial class KeyRepository(CofferStorage storage) : IKeyRepository
{
    private const int MaxPageSize = 1000;

    private const string KeyColumns =
        "k.id AS Id, k.key_store_id AS KeyStoreId, k.external_id AS ExternalId, k.description AS Description, k.tags AS Tags, " +
        "k.usage AS Usage, k.enabled AS Enabled, k.current_version AS CurrentVersion, k.created_at AS CreatedAt, " +
        "k.compromised_may_decrypt AS CompromisedMayDecrypt, k.destroys_at AS DestroysAt, k.destroyed_at AS DestroyedAt";

    private const string VersionColumns =
        "v.key_id AS KeyId, v.version AS Version, v.state AS State, v.backend AS Backend, v.material AS Material, v.created_at AS CreatedAt, " +
        "v.activates_at AS ActivatesAt, v.deactivates_at AS DeactivatesAt, v.destroys_at AS DestroysAt, " +
        "v.state_changed_at AS StateChangedAt, v.state_changed_by AS StateChangedBy, v.encryptions_reserved AS EncryptionsReserved";

    private const string InsertKey =
        "INSERT INTO keys (id, key_store_id, external_id, description, tags, usage, enabled, current_version, created_at, compromised_may_decrypt) " +
        "VALUES (@Id, @KeyStoreId, @ExternalId, @Description, @Tags, @Usage, @Enabled, @CurrentVersion, @CreatedAt, @CompromisedMayDecrypt)";

    private const string InsertVersion =
        "INSERT INTO key_versions (key_id, version, state, backend, material, created_at, activates_at, deactivates_at, destroys_at, state_changed_at, state_changed_by) " +
        "VALUES (@KeyId, @Version, @State, @Backend, @Material, @CreatedAt, @ActivatesAt, @DeactivatesAt, @DestroysAt, @StateChangedAt, @StateChangedBy)";

    private const string SelectKey = "SELECT " + KeyColumns + " FROM keys AS k WHERE k.id = @Id";

    private const string SelectKeyByExternalId =
        "SELECT " + KeyColumns + " FROM keys AS k WHERE k.key_store_id = @KeyStoreId AND k.external_id = @ExternalId";

    // One constant statement for every filter combination: a null parameter switches its
    // predicate off. Keyset paging on the primary key: "id > last id seen", never OFFSET, so a
    // page costs the same however deep it is and concurrent inserts do not shift it.
    private readonly string _selectKeyPage =
        "SELECT " + KeyColumns + " FROM keys AS k" +
        " WHERE (@KeyStoreId IS NULL OR k.key_store_id = @KeyStoreId)" +
        " AND (@Enabled IS NULL OR k.enabled = @Enabled)" +
        " AND (@After IS NULL OR k.id > @After)" +
        " AND (@Text IS NULL OR lower(k.external_id) LIKE @Text ESCAPE '\\' OR lower(k.description) LIKE @Text ESCAPE '\\')" +
        " AND (@TagName IS NULL OR " + storage.Dialect.TagPredicate + ")" +
        " ORDER BY k.id LIMIT @Take";

    private const string SelectAllKeys = "SELECT " + KeyColumns + " FROM keys AS k ORDER BY k.id";

    private const string SelectAllVersions = "SELECT " + VersionColumns + " FROM key_versions AS v ORDER BY v.key_id, v.version";

    private const string SelectVersions = "SELECT " + VersionColumns + " FROM key_versions AS v WHERE v.key_id = @KeyId ORDER BY v.version";

    private const string UpdateEnabled = "UPDATE keys SET enabled = @Enabled WHERE id = @Id";

    private const string CountKeys = "SELECT COUNT(*) FROM keys WHERE (@KeyStoreId IS NULL OR key_store_id = @KeyStoreId)";

    public async Task CreateKeyAsync(ManagedKey key, KeyVersion firstVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(firstVersion);
        if (!string.Equals(firstVersion.KeyId, key.Id, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The first version belongs to key '{firstVersion.KeyId}', not '{key.Id}'.", nameof(firstVersion));
        }

        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertKey, new
            {
                key.Id,
                key.KeyStoreId,
                key.ExternalId,
                key.Description,
                Tags = DbValues.Tags(key.Tags),
                Usage = (long)key.Usage,
                Enabled = key.Enabled ? 1L : 0L,
                key.CurrentVersion,
                CreatedAt = DbValues.Time(key.CreatedAt),
                CompromisedMayDecrypt = key.CompromisedMayDecrypt ? 1L : 0L,
            }, transaction, cancellationToken: ct));
            await connection.ExecuteAsync(new CommandDefinition(InsertVersion, VersionParameters(firstVersion), transaction, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out var columns))
        {
            // The transaction is rolled back on dispose: no key without its version, no orphan version.
            throw new ConflictException(columns switch
            {
                "keys.key_store_id, keys.external_id" =>
                    $"a key with external id '{key.ExternalId}' already exists in key store '{key.KeyStoreId}'",
                "key_versions.key_id, key_versions.version" =>
                    $"version {firstVersion.Version} of key '{key.Id}' already exists",
                _ => $"a key with id '{key.Id}' already exists",
            }, exception);
        }
        catch (Exception exception) when (storage.Dialect.IsForeignKeyViolation(exception))
        {
            throw new ConflictException($"key store '{key.KeyStoreId}' does not exist", exception);
        }

        await transaction.CommitAsync(ct);
    }

    public async Task<ManagedKey?> GetKeyAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(SelectKey, new { Id = id }, cancellationToken: ct));
        return row?.ToKey();
    }

    public async Task<ManagedKey?> FindKeyAsync(string keyStoreId, string externalId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<KeyRow>(new CommandDefinition(
            SelectKeyByExternalId, new { KeyStoreId = keyStoreId, ExternalId = externalId }, cancellationToken: ct));
        return row?.ToKey();
    }

    public async Task<KeyPage> ListKeysAsync(KeyQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, MaxPageSize);
        var (tagName, tagValue) = ParseTag(query.Tag);

        await using var connection = await storage.OpenConnectionAsync(ct);
        // One row more than the page: its presence says whether another page follows.
        var rows = (await connection.QueryAsync<KeyRow>(new CommandDefinition(_selectKeyPage, new
        {
            query.KeyStoreId,
            Enabled = query.Enabled is { } enabled ? (enabled ? 1L : 0L) : (long?)null,
            query.After,
            Text = string.IsNullOrEmpty(query.Text) ? null : DbValues.ContainsPattern(query.Text),
            TagName = tagName,
            TagValue = tagValue,
            Take = limit + 1,
        }, cancellationToken: ct))).AsList();

        var hasMore = rows.Count > limit;
        var keys = rows.Take(limit).Select(row => row.ToKey()).ToArray();
        return new KeyPage(keys, hasMore ? keys[^1].Id : null);
    }

    public async Task<IReadOnlyList<(ManagedKey Key, IReadOnlyList<KeyVersion> Versions)>> LoadAllAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        // Two queries in one read transaction: the same snapshot for keys and versions, and no
        // query per key however many there are.
        await using var transaction = await storage.BeginReadAsync(connection, ct);
        var keyRows = await connection.QueryAsync<KeyRow>(new CommandDefinition(SelectAllKeys, transaction: transaction, cancellationToken: ct));
        var versionRows = await connection.QueryAsync<KeyVersionRow>(new CommandDefinition(SelectAllVersions, transaction: transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);

        var versionsByKey = versionRows
            .GroupBy(row => row.KeyId, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => (IReadOnlyList<KeyVersion>)[.. group.Select(row => row.ToVersion())], StringComparer.Ordinal);

        return [.. keyRows.Select(row => (row.ToKey(), versionsByKey.GetValueOrDefault(row.Id) ?? []))];
    }

    public async Task<IReadOnlyList<KeyVersion>> ListVersionsAsync(string keyId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<KeyVersionRow>(new CommandDefinition(SelectVersions, new { KeyId = keyId }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToVersion())];
    }

    public async Task<bool> SetEnabledAsync(string keyId, bool enabled, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(UpdateEnabled, new { Id = keyId, Enabled = enabled ? 1L : 0L }, cancellationToken: ct));
        return changed > 0;
    }

    public async Task<int> CountKeysAsync(string? keyStoreId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return (int)await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountKeys, new { KeyStoreId = keyStoreId }, cancellationToken: ct));
    }

    private static object VersionParameters(KeyVersion version) => new
    {
        version.KeyId,
        version.Version,
        State = DbValues.State(version.State),
        version.Backend,
        version.Material,
        CreatedAt = DbValues.Time(version.CreatedAt),
        ActivatesAt = DbValues.Time(version.ActivatesAt),
        DeactivatesAt = DbValues.Time(version.DeactivatesAt),
        DestroysAt = DbValues.Time(version.DestroysAt),
        StateChangedAt = DbValues.Time(version.StateChangedAt),
        version.StateChangedBy,
    };

    /// <summary>"name" matches any value of that tag; "name=value" only that value.</summary>
    private static (string? Name, string? Value) ParseTag(string? tag)
    {
        if (string.IsNullOrEmpty(tag))
        {
            return (null, null);
        }

        var equals = tag.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (tag, null) : (tag[..equals], tag[(equals + 1)..]);
    }
}

internal sealed class KeyRow
{
    public string Id { get; init; } = "";
    public string KeyStoreId { get; init; } = "";
    public string ExternalId { get; init; } = "";
    public string Description { get; init; } = "";
    public string Tags { get; init; } = "{}";
    public long Usage { get; init; }
    public long Enabled { get; init; }
    public long CurrentVersion { get; init; }
    public string CreatedAt { get; init; } = "";
    public long CompromisedMayDecrypt { get; init; }
    public string? DestroysAt { get; init; }
    public string? DestroyedAt { get; init; }

    public ManagedKey ToKey() => new(
        Id,
        KeyStoreId,
        ExternalId,
        Description,
        DbValues.ParseTags(Tags),
        (KeyUsage)Usage,
        Enabled != 0,
        checked((int)CurrentVersion),
        DbValues.ParseTime(CreatedAt))
    {
        CompromisedMayDecrypt = CompromisedMayDecrypt != 0,
        DestroysAt = DbValues.ParseOptionalTime(DestroysAt),
        DestroyedAt = DbValues.ParseOptionalTime(DestroyedAt),
    };
}

internal sealed class KeyVersionRow
{
    public string KeyId { get; init; } = "";
    public long Version { get; init; }
    public string State { get; init; } = "";
    public string Backend { get; init; } = "";
    public byte[] Material { get; init; } = [];
    public string CreatedAt { get; init; } = "";
    public string? ActivatesAt { get; init; }
    public string? DeactivatesAt { get; init; }
    public string? DestroysAt { get; init; }
    public string? StateChangedAt { get; init; }
    public string? StateChangedBy { get; init; }

    public long EncryptionsReserved { get; init; }

    public KeyVersion ToVersion() => new(
        KeyId,
        checked((int)Version),
        DbValues.ParseState(State),
        Backend,
        Material,
        DbValues.ParseTime(CreatedAt))
    {
        ActivatesAt = DbValues.ParseOptionalTime(ActivatesAt),
        DeactivatesAt = DbValues.ParseOptionalTime(DeactivatesAt),
        DestroysAt = DbValues.ParseOptionalTime(DestroysAt),
        StateChangedAt = DbValues.ParseOptionalTime(StateChangedAt),
        StateChangedBy = StateChangedBy,
        EncryptionsReserved = EncryptionsReserved,
    };
}
