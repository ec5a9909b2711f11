using Coffer.Auth;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class SystemRepository(CofferStorage storage) : ISystemRepository
{
    private const string TokenColumns =
        "id AS Id, name AS Name, hash AS Hash, role AS Role, created_at AS CreatedAt, expires_at AS ExpiresAt, revoked_at AS RevokedAt, " +
        "owner_id AS OwnerId, key_store_id AS KeyStoreId";

    private const string SelectSetting = "SELECT value FROM settings WHERE name = @Name";

    // Standard upsert: SQLite 3.24+ and PostgreSQL 9.5+ spell it the same.
    private const string UpsertSetting =
        "INSERT INTO settings (name, value) VALUES (@Name, @Value) ON CONFLICT (name) DO UPDATE SET value = excluded.value";

    private const string InsertSetting = "INSERT INTO settings (name, value) VALUES (@Name, @Value)";

    // Rewrites the row with its own value only when it still holds the expected one: a row lock on
    // PostgreSQL (held to the commit), and under SQLite's write lock anyway.
    private const string ClaimSetting = "UPDATE settings SET value = value WHERE name = @Name AND value = @Value";

    private const string DeleteSetting = "DELETE FROM settings WHERE name = @Name";

    private const string InsertToken =
        "INSERT INTO api_tokens (id, name, hash, role, key_store_id, owner_id, created_at, expires_at, revoked_at) " +
        "VALUES (@Id, @Name, @Hash, @Role, @KeyStoreId, @OwnerId, @CreatedAt, @ExpiresAt, @RevokedAt)";

    private const string SelectTokenByHash = "SELECT " + TokenColumns + " FROM api_tokens WHERE hash = @Hash";

    private const string SelectTokenById = "SELECT " + TokenColumns + " FROM api_tokens WHERE id = @Id";

    private const string SelectTokens = "SELECT " + TokenColumns + " FROM api_tokens ORDER BY created_at, id";

    private const string RevokeToken = "UPDATE api_tokens SET revoked_at = @RevokedAt WHERE id = @Id AND revoked_at IS NULL";

    public async Task<string?> GetSettingAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(SelectSetting, new { Name = name }, cancellationToken: ct));
    }

    public async Task SetSettingAsync(string name, string value, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(UpsertSetting, new { Name = name, Value = value }, cancellationToken: ct));
    }

    public async Task InsertSettingsAsync(IReadOnlyDictionary<string, string> settings, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        foreach (var (name, value) in settings)
        {
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(InsertSetting, new { Name = name, Value = value }, transaction, cancellationToken: ct));
            }
            catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out _))
            {
                // Disposing the transaction rolls back the settings already inserted.
                throw new ConflictException($"setting '{name}' already exists", exception);
            }
        }

        await transaction.CommitAsync(ct);
    }

    public async Task ReplaceSettingsAsync(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string?> values, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(values);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        foreach (var (name, value) in expected)
        {
            if (await connection.ExecuteAsync(new CommandDefinition(ClaimSetting, new { Name = name, Value = value }, transaction, cancellationToken: ct)) != 1)
            {
                throw new ConflictException($"setting '{name}' changed meanwhile");
            }
        }

        foreach (var (name, value) in values)
        {
            await connection.ExecuteAsync(new CommandDefinition(value is null ? DeleteSetting : UpsertSetting, new { Name = name, Value = value }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
    }

    public async Task AddTokenAsync(ApiToken token, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        if (token.Role is not null)
        {
            await AccessControl.EnsureRolesExistAsync(storage, transaction, [token.Role], ct);
        }

        try
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertToken, new
            {
                token.Id,
                token.Name,
                token.Hash,
                token.Role,
                token.KeyStoreId,
                token.OwnerId,
                CreatedAt = DbValues.Time(token.CreatedAt),
                ExpiresAt = DbValues.Time(token.ExpiresAt),
                RevokedAt = DbValues.Time(token.RevokedAt),
            }, transaction, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out var columns))
        {
            throw new ConflictException(columns == "api_tokens.hash"
                ? "a token with the same hash already exists"
                : $"a token with id '{token.Id}' already exists", exception);
        }

        await transaction.CommitAsync(ct);
    }

    public async Task<ApiToken?> FindTokenByHashAsync(byte[] hash, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(hash);
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(SelectTokenByHash, new { Hash = hash }, cancellationToken: ct));
        return row?.ToToken();
    }

    public async Task<ApiToken?> GetTokenAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<TokenRow>(new CommandDefinition(SelectTokenById, new { Id = id }, cancellationToken: ct));
        return row?.ToToken();
    }

    public async Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<TokenRow>(new CommandDefinition(SelectTokens, cancellationToken: ct));
        return [.. rows.Select(row => row.ToToken())];
    }

    public Task<GuardedChange> RevokeTokenAsync(string id, DateTimeOffset at, CancellationToken ct = default) =>
        AccessControl.GuardedAsync(storage, at, async (connection, transaction) =>
            await connection.ExecuteAsync(new CommandDefinition(RevokeToken, new { Id = id, RevokedAt = DbValues.Time(at) }, transaction, cancellationToken: ct)) > 0, ct);
}

internal sealed class TokenRow
{
    public string Id { get; init; } = "";
    public string Name { get; init; } = "";
    public byte[] Hash { get; init; } = [];
    public string? Role { get; init; }
    public string CreatedAt { get; init; } = "";
    public string? ExpiresAt { get; init; }
    public string? RevokedAt { get; init; }
    public string? OwnerId { get; init; }
    public string? KeyStoreId { get; init; }

    public ApiToken ToToken() => new(
        Id, Name, Hash, Role, DbValues.ParseTime(CreatedAt), DbValues.ParseOptionalTime(ExpiresAt), DbValues.ParseOptionalTime(RevokedAt),
        OwnerId, KeyStoreId);
}
