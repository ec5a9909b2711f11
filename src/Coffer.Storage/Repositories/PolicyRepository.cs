using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class PolicyRepository(CofferStorage storage) : IPolicyRepository
{
    private const string PolicyColumns =
        "scope AS Scope, scope_id AS ScopeId, version AS Version, document AS Document, created_at AS CreatedAt, created_by AS CreatedBy";

    private const string NextVersion =
        "SELECT COALESCE(MAX(version), 0) + 1 FROM access_policies WHERE scope = @Scope AND scope_id = @ScopeId";

    private const string InsertPolicy =
        "INSERT INTO access_policies (scope, scope_id, version, document, created_at, created_by) " +
        "VALUES (@Scope, @ScopeId, @Version, @Document, @CreatedAt, @CreatedBy)";

    private const string SelectVersion =
        "SELECT " + PolicyColumns + " FROM access_policies WHERE scope = @Scope AND scope_id = @ScopeId AND version = @Version";

    private const string SelectLatest =
        "SELECT " + PolicyColumns + " FROM access_policies WHERE scope = @Scope AND scope_id = @ScopeId ORDER BY version DESC LIMIT 1";

    private const string SelectVersions =
        "SELECT " + PolicyColumns + " FROM access_policies WHERE scope = @Scope AND scope_id = @ScopeId ORDER BY version";

    private const string SelectCurrent =
        "SELECT " + PolicyColumns + " FROM access_policies p WHERE document IS NOT NULL AND version = " +
        "(SELECT MAX(version) FROM access_policies l WHERE l.scope = p.scope AND l.scope_id = p.scope_id) ORDER BY scope, scope_id";

    private const string SelectRegionSets = "SELECT name AS Name, regions AS Regions, updated_at AS UpdatedAt FROM region_sets ORDER BY name";

    private const string UpsertRegionSet =
        "INSERT INTO region_sets (name, regions, updated_at) VALUES (@Name, @Regions, @UpdatedAt) " +
        "ON CONFLICT (name) DO UPDATE SET regions = excluded.regions, updated_at = excluded.updated_at";

    private const string DeleteRegionSet = "DELETE FROM region_sets WHERE name = @Name";

    public async Task<StoredPolicy> AddVersionAsync(string scope, string scopeId, string? document, DateTimeOffset at, string? createdBy, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await storage.Dialect.LockAsync(transaction, WriteLock.AccessPolicies, ct);
        var version = (int)await connection.ExecuteScalarAsync<long>(new CommandDefinition(NextVersion, new { Scope = scope, ScopeId = scopeId }, transaction, cancellationToken: ct));
        var stored = new StoredPolicy(scope, scopeId, version, document, at, createdBy);
        await connection.ExecuteAsync(new CommandDefinition(InsertPolicy, new
        {
            Scope = scope,
            ScopeId = scopeId,
            Version = version,
            Document = document,
            CreatedAt = DbValues.Time(at),
            CreatedBy = createdBy,
        }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return stored;
    }

    public async Task<StoredPolicy?> GetAsync(string scope, string scopeId, int? version = null, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<PolicyRow>(new CommandDefinition(
            version is null ? SelectLatest : SelectVersion, new { Scope = scope, ScopeId = scopeId, Version = version }, cancellationToken: ct));
        return row?.ToPolicy();
    }

    public async Task<IReadOnlyList<StoredPolicy>> ListVersionsAsync(string scope, string scopeId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<PolicyRow>(new CommandDefinition(SelectVersions, new { Scope = scope, ScopeId = scopeId }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToPolicy())];
    }

    public async Task<IReadOnlyList<StoredPolicy>> ListCurrentAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<PolicyRow>(new CommandDefinition(SelectCurrent, cancellationToken: ct));
        return [.. rows.Select(r => r.ToPolicy())];
    }

    public async Task<IReadOnlyList<StoredRegionSet>> ListRegionSetsAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<RegionSetRow>(new CommandDefinition(SelectRegionSets, cancellationToken: ct));
        return [.. rows.Select(r => r.ToSet())];
    }

    public async Task PutRegionSetAsync(StoredRegionSet regionSet, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(regionSet);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(UpsertRegionSet, new
        {
            regionSet.Name,
            Regions = string.Join(',', regionSet.Regions),
            UpdatedAt = DbValues.Time(regionSet.UpdatedAt),
        }, cancellationToken: ct));
    }

    public async Task<bool> DeleteRegionSetAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(DeleteRegionSet, new { Name = name }, cancellationToken: ct)) > 0;
    }
}

internal sealed class PolicyRow
{
    public string Scope { get; init; } = "";
    public string ScopeId { get; init; } = "";
    public long Version { get; init; }
    public string? Document { get; init; }
    public string CreatedAt { get; init; } = "";
    public string? CreatedBy { get; init; }

    public StoredPolicy ToPolicy() => new(Scope, ScopeId, (int)Version, Document, DbValues.ParseTime(CreatedAt), CreatedBy);
}

internal sealed class RegionSetRow
{
    public string Name { get; init; } = "";
    public string Regions { get; init; } = "";
    public string UpdatedAt { get; init; } = "";

    public StoredRegionSet ToSet() =>
        new(Name, Regions.Split(',', StringSplitOptions.RemoveEmptyEntries), DbValues.ParseTime(UpdatedAt));
}
