using System.Data.Common;
using Coffer.Auth;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class PrincipalRepository(CofferStorage storage) : IPrincipalRepository
{
    private const string Columns =
        "id AS Id, kind AS Kind, name AS Name, oidc_subject AS OidcSubject, grants AS Grants, groups AS Groups, " +
        "created_at AS CreatedAt, disabled_at AS DisabledAt";

    private const string Insert =
        "INSERT INTO principals (id, kind, name, oidc_subject, grants, groups, created_at, disabled_at) " +
        "VALUES (@Id, @Kind, @Name, @OidcSubject, @Grants, @Groups, @CreatedAt, NULL)";

    private const string SelectById = "SELECT " + Columns + " FROM principals WHERE id = @Id";

    private const string SelectBySubject = "SELECT " + Columns + " FROM principals WHERE oidc_subject = @Subject";

    private const string SelectAll = "SELECT " + Columns + " FROM principals WHERE @Kind IS NULL OR kind = @Kind ORDER BY created_at, id";

    private const string SelectEnabled = "SELECT " + Columns + " FROM principals WHERE disabled_at IS NULL ORDER BY created_at, id";

    private const string SelectValidBareTokensOfRole =
        "SELECT id FROM api_tokens WHERE owner_id IS NULL AND role = @Name AND revoked_at IS NULL " +
        "AND (expires_at IS NULL OR expires_at > @Now) ORDER BY created_at, id";

    private const string Update =
        "UPDATE principals SET name = @Name, oidc_subject = @OidcSubject, grants = @Grants, groups = @Groups " +
        "WHERE id = @Id AND disabled_at IS NULL";

    private const string Disable = "UPDATE principals SET disabled_at = @At WHERE id = @Id AND disabled_at IS NULL";

    private const string RevokeOwnedTokens = "UPDATE api_tokens SET revoked_at = @At WHERE owner_id = @Id AND revoked_at IS NULL";

    private const string RoleColumns = "name AS Name, description AS Description, permissions AS Permissions, updated_at AS UpdatedAt";

    private const string SelectRoles = "SELECT " + RoleColumns + " FROM custom_roles ORDER BY name";

    private const string SelectRole = "SELECT " + RoleColumns + " FROM custom_roles WHERE name = @Name";

    private const string UpsertRole =
        "INSERT INTO custom_roles (name, description, permissions, updated_at) VALUES (@Name, @Description, @Permissions, @UpdatedAt) " +
        "ON CONFLICT (name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions, updated_at = excluded.updated_at";

    private const string DeleteRole = "DELETE FROM custom_roles WHERE name = @Name";

    private const string RoleExists = "SELECT EXISTS (SELECT 1 FROM custom_roles WHERE name = @Name)";

    public async Task AddAsync(Principal principal, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await AccessControl.EnsureRolesExistAsync(storage, transaction, principal.Grants.Select(g => g.Role), ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(Insert, Parameters(principal), transaction, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out var columns))
        {
            throw Conflict(principal, columns, exception);
        }

        await transaction.CommitAsync(ct);
    }

    public async Task<Principal?> GetAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return (await connection.QuerySingleOrDefaultAsync<PrincipalRow>(new CommandDefinition(SelectById, new { Id = id }, cancellationToken: ct)))?.ToPrincipal();
    }

    public async Task<Principal?> FindByOidcSubjectAsync(string subject, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return (await connection.QuerySingleOrDefaultAsync<PrincipalRow>(new CommandDefinition(SelectBySubject, new { Subject = subject }, cancellationToken: ct)))?.ToPrincipal();
    }

    public async Task<IReadOnlyList<Principal>> ListAsync(string? kind = null, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<PrincipalRow>(new CommandDefinition(SelectAll, new { Kind = kind }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToPrincipal())];
    }

    public async Task<GuardedChange> UpdateAsync(Principal principal, DateTimeOffset at, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(principal);
        try
        {
            return await AccessControl.GuardedAsync(storage, at, async (connection, transaction) =>
            {
                await AccessControl.EnsureRolesExistAsync(storage, transaction, principal.Grants.Select(g => g.Role), ct);
                return await connection.ExecuteAsync(new CommandDefinition(Update, Parameters(principal), transaction, cancellationToken: ct)) > 0;
            }, ct);
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out var columns))
        {
            throw Conflict(principal, columns, exception);
        }
    }

    public Task<GuardedChange> DisableAsync(string id, DateTimeOffset at, CancellationToken ct = default) =>
        AccessControl.GuardedAsync(storage, at, async (connection, transaction) =>
        {
            var parameters = new { Id = id, At = DbValues.Time(at) };
            if (await connection.ExecuteAsync(new CommandDefinition(Disable, parameters, transaction, cancellationToken: ct)) == 0)
            {
                return false;
            }

            await connection.ExecuteAsync(new CommandDefinition(RevokeOwnedTokens, parameters, transaction, cancellationToken: ct));
            return true;
        }, ct);

    public async Task<IReadOnlyList<CustomRole>> ListRolesAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<RoleRow>(new CommandDefinition(SelectRoles, cancellationToken: ct));
        return [.. rows.Select(row => row.ToRole())];
    }

    public async Task<CustomRole?> GetRoleAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return (await connection.QuerySingleOrDefaultAsync<RoleRow>(new CommandDefinition(SelectRole, new { Name = name }, cancellationToken: ct)))?.ToRole();
    }

    public async Task PutRoleAsync(CustomRole role, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(role);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(UpsertRole, new
        {
            role.Name,
            role.Description,
            Permissions = string.Join(' ', role.Permissions),
            UpdatedAt = DbValues.Time(role.UpdatedAt),
        }, cancellationToken: ct));
    }

    public async Task<RoleDeletion> DeleteRoleAsync(string name, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await storage.Dialect.LockAsync(transaction, WriteLock.AccessControl, ct);
        var parameters = new { Name = name, Now = DbValues.Time(at) };
        var principals = await connection.QueryAsync<PrincipalRow>(new CommandDefinition(SelectEnabled, transaction: transaction, cancellationToken: ct));
        var tokens = await connection.QueryAsync<string>(new CommandDefinition(SelectValidBareTokensOfRole, parameters, transaction, cancellationToken: ct));
        List<string> holders =
        [
            .. principals.Select(row => row.ToPrincipal()).Where(p => p.Grants.Any(g => g.Role == name)).Select(p => p.Id),
            .. tokens,
        ];
        if (holders.Count > 0)
        {
            return new RoleDeletion(await connection.ExecuteScalarAsync<bool>(new CommandDefinition(RoleExists, parameters, transaction, cancellationToken: ct)), holders);
        }

        var found = await connection.ExecuteAsync(new CommandDefinition(DeleteRole, parameters, transaction, cancellationToken: ct)) > 0;
        await transaction.CommitAsync(ct);
        return new RoleDeletion(found, []);
    }

    private static object Parameters(Principal principal) => new
    {
        principal.Id,
        principal.Kind,
        principal.Name,
        principal.OidcSubject,
        Grants = string.Join(' ', principal.Grants),
        Groups = string.Join(' ', principal.Groups),
        CreatedAt = DbValues.Time(principal.CreatedAt),
    };

    private static ConflictException Conflict(Principal principal, string? columns, Exception exception) =>
        new(columns == "principals.oidc_subject"
            ? "another user already has this identity-provider subject"
            : $"a principal with id '{principal.Id}' already exists", exception);
}

internal sealed class PrincipalRow
{
    public string Id { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Name { get; init; } = "";
    public string? OidcSubject { get; init; }
    public string Grants { get; init; } = "";
    public string Groups { get; init; } = "";
    public string CreatedAt { get; init; } = "";
    public string? DisabledAt { get; init; }

    public Principal ToPrincipal() => new(
        Id, Kind, Name, OidcSubject,
        [.. Words.Of(Grants).Select(RoleGrant.Parse)],
        Words.Of(Groups), DbValues.ParseTime(CreatedAt), DbValues.ParseOptionalTime(DisabledAt));
}

internal sealed class RoleRow
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public string Permissions { get; init; } = "";
    public string UpdatedAt { get; init; } = "";

    public CustomRole ToRole() => new(Name, Description, Words.Of(Permissions), DbValues.ParseTime(UpdatedAt));
}

internal static class Words
{
    public static string[] Of(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
