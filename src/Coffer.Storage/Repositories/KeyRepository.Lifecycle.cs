using System.Data.Common;
using Coffer.Keys;
using Dapper;

namespace Coffer.Storage.Repositories;

// Rotation and version state changes. Each is one BEGIN IMMEDIATE transaction that reads
// what it guards and writes under the same lock, so the compare and the set cannot interleave with
// another writer — in this process or another node's. PostgreSQL gets the same shape with
// SELECT ... FOR UPDATE on the key row.
internal sealed partial class KeyRepository
{
    private const string SelectCurrentVersion = "SELECT current_version FROM keys WHERE id = @Id";

    private const string SelectVersion = "SELECT " + VersionColumns + " FROM key_versions AS v WHERE v.key_id = @KeyId AND v.version = @Version";

    private const string UpdateCurrentVersion = "UPDATE keys SET current_version = @Next WHERE id = @Id AND current_version = @Expected";

    private const string UpdateLifecycle =
        "UPDATE key_versions SET state = @State, activates_at = @ActivatesAt, deactivates_at = @DeactivatesAt, destroys_at = @DestroysAt, " +
        "state_changed_at = @StateChangedAt, state_changed_by = @StateChangedBy WHERE key_id = @KeyId AND version = @Version";

    private const string UpdateCompromisedMayDecrypt = "UPDATE keys SET compromised_may_decrypt = @Allowed WHERE id = @Id";

    // The claim of a scheduled rotation: a key's row moves on only to a later version, so the second
    // of two rotations of the same version for the same due time changes no row and is refused.
    private const string ClaimDueTime =
        "INSERT INTO key_rotation_state (key_id, last_due_at, from_version, rotated_at) VALUES (@KeyId, @DueAt, @FromVersion, @At) " +
        "ON CONFLICT (key_id) DO UPDATE SET last_due_at = excluded.last_due_at, from_version = excluded.from_version, rotated_at = excluded.rotated_at " +
        "WHERE key_rotation_state.from_version < excluded.from_version";

    public async Task<bool> RotateAsync(string keyId, int expectedCurrentVersion, KeyVersion newVersion, DateTimeOffset at, string actor, RotationClaim? claim = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(newVersion);
        ArgumentException.ThrowIfNullOrEmpty(actor);
        var handover = newVersion is { State: KeyVersionState.PreActive, ActivatesAt: { } activatesAt } ? activatesAt : (DateTimeOffset?)null;
        if (!string.Equals(newVersion.KeyId, keyId, StringComparison.Ordinal) || (newVersion.State != KeyVersionState.Active && handover is null))
        {
            throw new ArgumentException($"A rotation adds an Active version of key '{keyId}', or a PreActive one with its activation time.", nameof(newVersion));
        }

        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var current = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(SelectCurrentVersion + storage.Dialect.ForUpdate, new { Id = keyId }, transaction, cancellationToken: ct));
        if (current is null)
        {
            return false;
        }

        if (current != expectedCurrentVersion)
        {
            throw new ConflictException($"key '{keyId}' was rotated meanwhile: its current version is {current}, not {expectedCurrentVersion}");
        }

        if (claim is not null && await connection.ExecuteAsync(new CommandDefinition(ClaimDueTime, new
        {
            KeyId = keyId,
            DueAt = DbValues.Time(claim.DueAt),
            FromVersion = expectedCurrentVersion,
            At = DbValues.Time(at),
        }, transaction, cancellationToken: ct)) == 0)
        {
            throw new ConflictException($"the scheduler already rotated version {expectedCurrentVersion} of key '{keyId}' away");
        }

        // The version rotated out stops encrypting but keeps decrypting (docs/design.md, "Lifecycle");
        // one that is already Deactivated, Compromised or PreActive keeps its state. With a handover
        // time it encrypts until then and expires at that instant, when the new version activates.
        var previous = await ReadVersionAsync(connection, transaction, keyId, expectedCurrentVersion, ct);
        var replaced = previous is not { State: KeyVersionState.Active } ? null
            : handover is { } until ? previous.Lifecycle with { DeactivatesAt = previous.DeactivatesAt < until ? previous.DeactivatesAt : until }
            : KeyLifecycle.TryApply(previous.Lifecycle, KeyVersionAction.Deactivate, at, out _);
        if (replaced is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(UpdateLifecycle, VersionParameters(previous!.With(replaced, at, actor)), transaction, cancellationToken: ct));
        }

        try
        {
            var inserted = newVersion with { StateChangedAt = at, StateChangedBy = actor };
            await connection.ExecuteAsync(new CommandDefinition(InsertVersion, VersionParameters(inserted), transaction, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out _))
        {
            throw new ConflictException($"version {newVersion.Version} of key '{keyId}' already exists", exception);
        }

        await connection.ExecuteAsync(new CommandDefinition(UpdateCurrentVersion,
            new { Id = keyId, Next = newVersion.Version, Expected = expectedCurrentVersion }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return true;
    }

    public async Task<bool> UpdateVersionLifecycleAsync(string keyId, int version, VersionLifecycle expected, VersionLifecycle replacement, DateTimeOffset at, string actor, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(replacement);
        ArgumentException.ThrowIfNullOrEmpty(actor);

        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var stored = await ReadVersionAsync(connection, transaction, keyId, version, ct);
        if (stored is null)
        {
            return false;
        }

        // Record equality compares the state and all three times: any change since the caller
        // looked, by anyone, is a conflict rather than a silent overwrite.
        if (stored.Lifecycle != expected)
        {
            throw new ConflictException($"version {version} of key '{keyId}' changed meanwhile (it is now {stored.State}); look again and retry");
        }

        await connection.ExecuteAsync(new CommandDefinition(UpdateLifecycle, VersionParameters(stored.With(replacement, at, actor)), transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return true;
    }

    public async Task<bool> SetCompromisedMayDecryptAsync(string keyId, bool allowed, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition(UpdateCompromisedMayDecrypt, new { Id = keyId, Allowed = allowed ? 1L : 0L }, cancellationToken: ct));
        return changed > 0;
    }

    // Only in write transactions: the version's row stays locked until the commit (PostgreSQL).
    private async Task<KeyVersion?> ReadVersionAsync(DbConnection connection, DbTransaction transaction, string keyId, int version, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<KeyVersionRow>(new CommandDefinition(
            SelectVersion + storage.Dialect.ForUpdate, new { KeyId = keyId, Version = version }, transaction, cancellationToken: ct));
        return row?.ToVersion();
    }
}
