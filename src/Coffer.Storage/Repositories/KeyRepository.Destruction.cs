using Coffer.Keys;
using Dapper;

namespace Coffer.Storage.Repositories;

// Destruction: whole-key waiting periods, the sweeper's queries, and erasing a version's
// material so that it cannot be read back from the database files. Writes are BEGIN IMMEDIATE
// compare-and-set, as in KeyRepository.Lifecycle.cs.
internal sealed partial class KeyRepository
{
    private const string SelectKeyDestruction = "SELECT destroys_at AS DestroysAt, destroyed_at AS DestroyedAt FROM keys WHERE id = @Id";

    private const string UpdateKeyDestroysAt = "UPDATE keys SET destroys_at = @DestroysAt WHERE id = @Id";

    private const string SelectVersionsDue =
        "SELECT " + VersionColumns + " FROM key_versions AS v" +
        " WHERE v.destroys_at <= @Now AND v.state <> 'Destroyed'" +
        " ORDER BY v.destroys_at, v.key_id, v.version";

    private const string SelectKeysDue =
        "SELECT " + KeyColumns + " FROM keys AS k WHERE k.destroys_at <= @Now AND k.destroyed_at IS NULL ORDER BY k.destroys_at, k.id";

    // Empty rather than NULL: the column is NOT NULL since 0001 (see Migrations/Sqlite/0007_destruction.sql).
    // A parameter, since SQLite's X'' is a bit string on PostgreSQL.
    private const string UpdateVersionDestroyed =
        "UPDATE key_versions SET state = 'Destroyed', material = @Empty, activates_at = NULL, deactivates_at = NULL, destroys_at = NULL, " +
        "state_changed_at = @At, state_changed_by = @Actor WHERE key_id = @KeyId AND version = @Version";

    private const string CountVersionsNotDestroyed = "SELECT COUNT(*) FROM key_versions WHERE key_id = @Id AND state <> 'Destroyed'";

    private const string UpdateKeyDestroyed =
        "UPDATE keys SET destroyed_at = COALESCE(destroyed_at, @At), destroys_at = NULL WHERE id = @Id";

    /// <summary>1 while a destruction's erasure may not have reached the files yet. It starts at 1:
    /// an earlier process may have stopped between a destruction and the checkpoint that completes
    /// it, and checking costs one checkpoint.</summary>
    private int _erasurePending = 1;

    public async Task<bool> SetKeyDestroysAtAsync(string keyId, DateTimeOffset? expected, DateTimeOffset? destroysAt, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var stored = await connection.QuerySingleOrDefaultAsync<KeyDestructionRow>(new CommandDefinition(SelectKeyDestruction + storage.Dialect.ForUpdate, new { Id = keyId }, transaction, cancellationToken: ct));
        if (stored is null)
        {
            return false;
        }

        if (stored.DestroyedAt is not null)
        {
            throw new ConflictException($"key '{keyId}' is destroyed");
        }

        if (DbValues.ParseOptionalTime(stored.DestroysAt) != expected)
        {
            throw new ConflictException($"the destruction schedule of key '{keyId}' changed meanwhile; look again and retry");
        }

        await connection.ExecuteAsync(new CommandDefinition(UpdateKeyDestroysAt, new { Id = keyId, DestroysAt = DbValues.Time(destroysAt) }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<KeyVersion>> ListVersionsDueForDestructionAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<KeyVersionRow>(new CommandDefinition(SelectVersionsDue, new { Now = DbValues.Time(now) }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToVersion())];
    }

    public async Task<IReadOnlyList<ManagedKey>> ListKeysDueForDestructionAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<KeyRow>(new CommandDefinition(SelectKeysDue, new { Now = DbValues.Time(now) }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToKey())];
    }

    public async Task<bool> DestroyVersionAsync(string keyId, int version, VersionLifecycle expected, DateTimeOffset at, string actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentException.ThrowIfNullOrEmpty(actor);

        await using var connection = await storage.OpenConnectionAsync(ct);
        await using (var transaction = await storage.BeginWriteAsync(connection, ct))
        {
            var stored = await ReadVersionAsync(connection, transaction, keyId, version, ct);
            if (stored is null)
            {
                return false;
            }

            if (stored.Lifecycle != expected)
            {
                throw new ConflictException($"version {version} of key '{keyId}' changed meanwhile (it is now {stored.State}); look again and retry");
            }

            // On SQLite, secure_delete (SqliteDialect.ConnectionPragmas) zeroes the cell the old material
            // occupied in the page; the commit puts that page in the WAL. Older images of the page
            // stay in the database file and the WAL until CompleteErasureAsync.
            await connection.ExecuteAsync(new CommandDefinition(UpdateVersionDestroyed,
                new { KeyId = keyId, Version = version, At = DbValues.Time(at), Actor = actor, Empty = Array.Empty<byte>() }, transaction, cancellationToken: ct));
            await transaction.CommitAsync(ct);
        }

        Volatile.Write(ref _erasurePending, 1);
        return true;
    }

    public async Task<bool> CompleteErasureAsync(CancellationToken ct = default)
    {
        // Cleared before the checkpoint: a destruction committed meanwhile sets it again, so it is
        // never lost; a checkpoint that fails or is held back sets it again below.
        if (Interlocked.Exchange(ref _erasurePending, 0) == 0)
        {
            return true;
        }

        var complete = false;
        try
        {
            await using var connection = await storage.OpenConnectionAsync(ct);
            complete = await storage.Dialect.CompleteErasureAsync(connection, ct);
            return complete;
        }
        finally
        {
            if (!complete)
            {
                Volatile.Write(ref _erasurePending, 1);
            }
        }
    }

    public async Task<bool> MarkKeyDestroyedAsync(string keyId, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var stored = await connection.QuerySingleOrDefaultAsync<KeyDestructionRow>(new CommandDefinition(SelectKeyDestruction + storage.Dialect.ForUpdate, new { Id = keyId }, transaction, cancellationToken: ct));
        if (stored is null)
        {
            return false;
        }

        var left = await connection.ExecuteScalarAsync<long>(new CommandDefinition(CountVersionsNotDestroyed, new { Id = keyId }, transaction, cancellationToken: ct));
        if (left > 0)
        {
            throw new ConflictException($"key '{keyId}' still has {left} version(s) that are not destroyed");
        }

        await connection.ExecuteAsync(new CommandDefinition(UpdateKeyDestroyed, new { Id = keyId, At = DbValues.Time(at) }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return true;
    }
}

internal sealed class KeyDestructionRow
{
    public string? DestroysAt { get; init; }
    public string? DestroyedAt { get; init; }
}
