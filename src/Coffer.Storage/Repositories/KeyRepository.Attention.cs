using Dapper;

namespace Coffer.Storage.Repositories;

// Versions near their expiry or their encryption budget, for the console's Overview (docs/console.md,
// "Overview"). Two index reads: ix_key_versions_deactivates_at, and the partial index on the Active
// versions' encryptions_reserved (migration 0021).
internal sealed partial class KeyRepository
{
    private const string AttentionColumns =
        "k.id AS KeyId, k.key_store_id AS KeyStoreId, k.external_id AS Name, v.version AS Version, " +
        "v.deactivates_at AS DeactivatesAt, v.encryptions_reserved AS EncryptionsReserved " +
        "FROM key_versions AS v JOIN keys AS k ON k.id = v.key_id " +
        "WHERE v.destroys_at IS NULL AND k.destroys_at IS NULL AND k.destroyed_at IS NULL";

    // Times are fixed-width UTC text (DbValues.Time), so text order is time order.
    private const string SelectExpiring = "SELECT " + AttentionColumns +
        " AND v.deactivates_at IS NOT NULL AND v.deactivates_at < @ExpiresBefore AND v.state IN ('PreActive', 'Active')" +
        " ORDER BY v.deactivates_at, k.id LIMIT @Take";

    private const string SelectNearBudget = "SELECT " + AttentionColumns +
        " AND v.state = 'Active' AND v.encryptions_reserved >= @ReservedAtLeast" +
        " ORDER BY v.encryptions_reserved DESC, k.id LIMIT @Take";

    public async Task<IReadOnlyList<KeyVersionAttention>> ListVersionsNeedingAttentionAsync(DateTimeOffset expiresBefore, long reservedAtLeast, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await storage.OpenConnectionAsync(ct);
        var parameters = new { ExpiresBefore = DbValues.Time(expiresBefore), ReservedAtLeast = reservedAtLeast, Take = limit };
        var expiring = await connection.QueryAsync<AttentionRow>(new CommandDefinition(SelectExpiring, parameters, cancellationToken: ct));
        var nearBudget = await connection.QueryAsync<AttentionRow>(new CommandDefinition(SelectNearBudget, parameters, cancellationToken: ct));
        return [.. expiring.Concat(nearBudget).Select(r => new KeyVersionAttention(
            r.KeyId, r.KeyStoreId, r.Name, (int)r.Version, DbValues.ParseOptionalTime(r.DeactivatesAt), r.EncryptionsReserved))];
    }

    private sealed class AttentionRow
    {
        public string KeyId { get; init; } = "";
        public string KeyStoreId { get; init; } = "";
        public string Name { get; init; } = "";
        public long Version { get; init; }
        public string? DeactivatesAt { get; init; }
        public long EncryptionsReserved { get; init; }
    }
}
