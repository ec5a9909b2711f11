using Coffer.KillSwitches;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class KillSwitchRepository(CofferStorage storage) : IKillSwitchRepository
{
    private const string Columns =
        "id AS Id, scope AS Scope, value AS Value, reason AS Reason, engaged_by AS EngagedBy, engaged_at AS EngagedAt, " +
        "released_by AS ReleasedBy, released_at AS ReleasedAt";

    private const string SelectSwitches =
        "SELECT " + Columns + " FROM kill_switches WHERE (@All = 1 OR released_at IS NULL) ORDER BY engaged_at, id";

    private const string SelectSwitch = "SELECT " + Columns + " FROM kill_switches WHERE id = @Id";

    private const string InsertSwitch =
        "INSERT INTO kill_switches (id, scope, value, reason, engaged_by, engaged_at) VALUES (@Id, @Scope, @Value, @Reason, @EngagedBy, @EngagedAt)";

    private const string ReleaseSwitch =
        "UPDATE kill_switches SET released_by = @ReleasedBy, released_at = @ReleasedAt WHERE id = @Id AND released_at IS NULL";

    public async Task<IReadOnlyList<KillSwitch>> ListAsync(bool includeReleased = false, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(SelectSwitches, new { All = includeReleased ? 1 : 0 }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToSwitch())];
    }

    public async Task EngageAsync(KillSwitch killSwitch, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(killSwitch);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(InsertSwitch, new
        {
            killSwitch.Id,
            Scope = KillSwitchScopes.ToText(killSwitch.Scope),
            killSwitch.Value,
            killSwitch.Reason,
            killSwitch.EngagedBy,
            EngagedAt = DbValues.Time(killSwitch.EngagedAt),
        }, cancellationToken: ct));
    }

    public async Task<KillSwitch?> ReleaseAsync(string id, string releasedBy, DateTimeOffset releasedAt, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var released = await connection.ExecuteAsync(new CommandDefinition(ReleaseSwitch,
            new { Id = id, ReleasedBy = releasedBy, ReleasedAt = DbValues.Time(releasedAt) }, transaction, cancellationToken: ct));
        var row = await connection.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(SelectSwitch, new { Id = id }, transaction, cancellationToken: ct));
        if (row is not null && released == 0)
        {
            throw new ConflictException($"kill switch '{id}' was released already");
        }

        await transaction.CommitAsync(ct);
        return row?.ToSwitch();
    }

    private sealed class Row
    {
        public string Id { get; init; } = "";
        public string Scope { get; init; } = "";
        public string? Value { get; init; }
        public string Reason { get; init; } = "";
        public string EngagedBy { get; init; } = "";
        public string EngagedAt { get; init; } = "";
        public string? ReleasedBy { get; init; }
        public string? ReleasedAt { get; init; }

        // An unreadable scope reads as All: a stored switch must never fail open.
        public KillSwitch ToSwitch() => new(
            Id, KillSwitchScopes.TryParse(Scope, out var scope) ? scope : KillSwitchScope.All, Value, Reason, EngagedBy,
            DbValues.ParseTime(EngagedAt), ReleasedBy, DbValues.ParseOptionalTime(ReleasedAt));
    }
}
