using Coffer.Auth;
using Dapper;

namespace Coffer.Storage.Repositories;

/// <summary>
/// The checks every change to who may do what runs in its write transaction: a granted custom role
/// exists, and someone can still administer. Both read several tables and then write, so on
/// PostgreSQL each such transaction first takes <see cref="WriteLock.AccessControl"/>: two nodes that
/// each revoke one of the last two administrators would otherwise both see the other one remain.
/// </summary>
internal static class AccessControl
{
    // Someone can act as administrator on every key store: a valid administrator token that stands for
    // itself, or a valid token of an enabled user or app holding administrator unscoped. Stored times
    // are fixed-width UTC text, so they compare as text.
    private const string AdministratorRemains =
        "SELECT EXISTS (SELECT 1 FROM api_tokens t LEFT JOIN principals p ON p.id = t.owner_id " +
        "WHERE t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > @Now) AND (" +
        "(t.owner_id IS NULL AND t.role = 'administrator' AND t.key_store_id IS NULL) OR " +
        "(p.disabled_at IS NULL AND (' ' || p.grants || ' ') LIKE '% administrator %')))";


    /// <summary>Refuses (<see cref="ConflictException"/>) a grant of a custom role that does not exist.
    /// Called in the granting write transaction, so it cannot interleave with a role's deletion
    /// (<see cref="PrincipalRepository.DeleteRoleAsync"/>, which takes the same lock).</summary>
    public static async Task EnsureRolesExistAsync(CofferStorage storage, System.Data.Common.DbTransaction transaction, IEnumerable<string> roles, CancellationToken ct)
    {
        var custom = roles.Where(role => !Roles.IsBuiltIn(role)).Distinct(StringComparer.Ordinal).ToList();
        if (custom.Count == 0)
        {
            return;
        }

        await storage.Dialect.LockAsync(transaction, WriteLock.AccessControl, ct);
        var existing = (await transaction.Connection!.QueryAsync<string>(new CommandDefinition("SELECT name FROM custom_roles WHERE " + storage.Dialect.IsIn("name", "@Names"), new { Names = custom }, transaction, cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);
        if (custom.FirstOrDefault(role => !existing.Contains(role)) is { } missing)
        {
            throw new ConflictException($"role '{missing}' does not exist (deleted meanwhile?)");
        }
    }

    /// <summary>Runs <paramref name="change"/> (true when it changed something) in one write
    /// transaction and commits it only if it did not take away the last administrator.</summary>
    public static async Task<GuardedChange> GuardedAsync(
        CofferStorage storage, DateTimeOffset at, Func<System.Data.Common.DbConnection, System.Data.Common.DbTransaction, Task<bool>> change, CancellationToken ct)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await storage.Dialect.LockAsync(transaction, WriteLock.AccessControl, ct);
        var now = new { Now = DbValues.Time(at) };
        var before = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(AdministratorRemains, now, transaction, cancellationToken: ct));
        if (!await change(connection, transaction))
        {
            return GuardedChange.Unchanged;
        }

        if (before && !await connection.ExecuteScalarAsync<bool>(new CommandDefinition(AdministratorRemains, now, transaction, cancellationToken: ct)))
        {
            return GuardedChange.WouldLockOut; // disposing the transaction rolls the change back
        }

        await transaction.CommitAsync(ct);
        return GuardedChange.Done;
    }
}
