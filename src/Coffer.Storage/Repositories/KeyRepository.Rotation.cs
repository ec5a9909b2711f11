using System.Globalization;
using Coffer.Keys;
using Dapper;

namespace Coffer.Storage.Repositories;

// Rotation policies and the scheduler's queries (migration 0008). The key repository
// serves them: the candidates are keys with their current version, read with the same columns.
internal sealed partial class KeyRepository : IRotationRepository
{
    private const string PolicyColumns =
        "interval_days AS IntervalDays, time_of_day AS TimeOfDay, day_of_week AS DayOfWeek, " +
        "rotate_before_expiry_days AS RotateBeforeExpiryDays, updated_at AS UpdatedAt, updated_by AS UpdatedBy";

    private const string UpsertPolicy =
        "INSERT INTO rotation_policies (scope, target_id, interval_days, time_of_day, day_of_week, rotate_before_expiry_days, updated_at, updated_by) " +
        "VALUES (@Scope, @TargetId, @IntervalDays, @TimeOfDay, @DayOfWeek, @RotateBeforeExpiryDays, @UpdatedAt, @UpdatedBy) " +
        "ON CONFLICT (scope, target_id) DO UPDATE SET interval_days = excluded.interval_days, time_of_day = excluded.time_of_day, " +
        "day_of_week = excluded.day_of_week, rotate_before_expiry_days = excluded.rotate_before_expiry_days, " +
        "updated_at = excluded.updated_at, updated_by = excluded.updated_by";

    private const string SelectPolicy = "SELECT " + PolicyColumns + " FROM rotation_policies WHERE scope = @Scope AND target_id = @TargetId";

    private const string SelectPolicies = "SELECT scope AS Scope, target_id AS TargetId, " + PolicyColumns + " FROM rotation_policies";

    private const string DeletePolicy = "DELETE FROM rotation_policies WHERE scope = @Scope AND target_id = @TargetId";

    // Keys with a policy of their own or through their key store, each with its current version and
    // the scheduler's last handled due time; policies are few, so they are read apart and matched here.
    private const string SelectCandidates =
        "SELECT " + KeyColumns + ", " + VersionColumns + ", s.last_due_at AS LastDueAt" +
        " FROM keys AS k JOIN key_versions AS v ON v.key_id = k.id AND v.version = k.current_version" +
        " LEFT JOIN key_rotation_state AS s ON s.key_id = k.id" +
        " WHERE (@KeyId IS NULL AND (EXISTS (SELECT 1 FROM rotation_policies AS p WHERE p.scope = 'key' AND p.target_id = k.id)" +
        " OR EXISTS (SELECT 1 FROM rotation_policies AS p WHERE p.scope = 'keystore' AND p.target_id = k.key_store_id)))" +
        " OR k.id = @KeyId ORDER BY k.id";

    // The partial indexes of migration 0004 hold only versions with a time set.
    private const string SelectDueVersionChanges =
        "SELECT " + VersionColumns + " FROM key_versions AS v WHERE v.destroys_at IS NULL AND (" +
        "(v.state = 'PreActive' AND v.activates_at IS NOT NULL AND v.activates_at <= @Now) OR " +
        "(v.state = 'Active' AND v.deactivates_at IS NOT NULL AND v.deactivates_at <= @Now)) ORDER BY v.key_id, v.version";

    public async Task SetPolicyAsync(RotationPolicyScope scope, string targetId, RotationPolicy policy, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(UpsertPolicy, new
        {
            Scope = ScopeText(scope),
            TargetId = targetId,
            policy.IntervalDays,
            TimeOfDay = policy.TimeOfDay?.ToString("HH':'mm", CultureInfo.InvariantCulture),
            DayOfWeek = policy.DayOfWeek is { } day ? (long?)day : null,
            policy.RotateBeforeExpiryDays,
            UpdatedAt = DbValues.Time(policy.UpdatedAt),
            policy.UpdatedBy,
        }, cancellationToken: ct));
    }

    public async Task<RotationPolicy?> GetPolicyAsync(RotationPolicyScope scope, string targetId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<RotationPolicyRow>(new CommandDefinition(
            SelectPolicy, new { Scope = ScopeText(scope), TargetId = targetId }, cancellationToken: ct));
        return row?.ToPolicy();
    }

    public async Task<bool> DeletePolicyAsync(RotationPolicyScope scope, string targetId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            DeletePolicy, new { Scope = ScopeText(scope), TargetId = targetId }, cancellationToken: ct)) > 0;
    }

    public async Task<IReadOnlyList<RotationCandidate>> ListCandidatesAsync(string? keyId = null, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        // One snapshot for the policies and the keys they apply to.
        await using var transaction = await storage.BeginReadAsync(connection, ct);
        var policies = (await connection.QueryAsync<RotationPolicyRow>(new CommandDefinition(SelectPolicies, transaction: transaction, cancellationToken: ct)))
            .ToDictionary(p => (p.Scope, p.TargetId), p => p.ToPolicy());
        var rows = await connection.QueryAsync<KeyRow, KeyVersionRow, RotationStateRow?, (KeyRow Key, KeyVersionRow Version, RotationStateRow? State)>(
            new CommandDefinition(SelectCandidates, new { KeyId = keyId }, transaction, cancellationToken: ct),
            (key, version, state) => (key, version, state),
            splitOn: "KeyId,LastDueAt");
        await transaction.CommitAsync(ct);

        return [.. rows.Select(row => new RotationCandidate(
            row.Key.ToKey(),
            row.Version.ToVersion(),
            policies.GetValueOrDefault(("key", row.Key.Id)),
            policies.GetValueOrDefault(("keystore", row.Key.KeyStoreId)),
            DbValues.ParseOptionalTime(row.State?.LastDueAt)))];
    }

    public async Task<IReadOnlyList<KeyVersion>> ListDueVersionChangesAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<KeyVersionRow>(new CommandDefinition(SelectDueVersionChanges, new { Now = DbValues.Time(now) }, cancellationToken: ct));
        return [.. rows.Select(row => row.ToVersion())];
    }

    private static string ScopeText(RotationPolicyScope scope) => scope switch
    {
        RotationPolicyScope.Key => "key",
        RotationPolicyScope.KeyStore => "keystore",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, "Unknown rotation policy scope."),
    };
}

internal sealed class RotationPolicyRow
{
    public string Scope { get; init; } = "";
    public string TargetId { get; init; } = "";
    public long? IntervalDays { get; init; }
    public string? TimeOfDay { get; init; }
    public long? DayOfWeek { get; init; }
    public long? RotateBeforeExpiryDays { get; init; }
    public string UpdatedAt { get; init; } = "";
    public string UpdatedBy { get; init; } = "";

    public RotationPolicy ToPolicy() => new(
        IntervalDays is { } days ? checked((int)days) : null,
        TimeOfDay is null ? null : TimeOnly.ParseExact(TimeOfDay, "HH':'mm", CultureInfo.InvariantCulture),
        DayOfWeek is { } day ? (DayOfWeek)day : null,
        RotateBeforeExpiryDays is { } before ? checked((int)before) : null,
        DbValues.ParseTime(UpdatedAt),
        UpdatedBy);
}

internal sealed class RotationStateRow
{
    public string? LastDueAt { get; init; }
}
