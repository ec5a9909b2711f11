using Coffer.Auth;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class ConsoleSessionRepository(CofferStorage storage) : IConsoleSessionRepository
{
    private const string Insert =
        "INSERT INTO console_sessions (hash, token_id, oidc_subject, oidc_name, oidc_groups, created_at, last_seen_at, expires_at) " +
        "VALUES (@Hash, @TokenId, @OidcSubject, @OidcName, @OidcGroups, @CreatedAt, @LastSeenAt, @ExpiresAt)";

    private const string SelectByHash =
        "SELECT hash AS Hash, token_id AS TokenId, oidc_subject AS OidcSubject, oidc_name AS OidcName, oidc_groups AS OidcGroups, " +
        "created_at AS CreatedAt, last_seen_at AS LastSeenAt, expires_at AS ExpiresAt FROM console_sessions WHERE hash = @Hash";

    // Times are stored as fixed-width UTC text (DbValues.Time), so text order is time order.
    private const string Touch = "UPDATE console_sessions SET last_seen_at = @At WHERE hash = @Hash AND last_seen_at < @At";

    private const string Delete = "DELETE FROM console_sessions WHERE hash = @Hash";

    private const string DeleteEnded = "DELETE FROM console_sessions WHERE expires_at <= @Now OR last_seen_at <= @IdleBefore";

    public async Task AddAsync(ConsoleSession session, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Insert, new
        {
            session.Hash,
            session.TokenId,
            OidcSubject = session.Oidc?.Subject,
            OidcName = session.Oidc?.Name,
            OidcGroups = session.Oidc is { } oidc ? DbValues.Strings(oidc.Groups) : null,
            CreatedAt = DbValues.Time(session.CreatedAt),
            LastSeenAt = DbValues.Time(session.LastSeenAt),
            ExpiresAt = DbValues.Time(session.ExpiresAt),
        }, cancellationToken: ct));
    }

    public async Task<ConsoleSession?> FindAsync(byte[] hash, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<SessionRow>(new CommandDefinition(SelectByHash, new { Hash = hash }, cancellationToken: ct));
        return row is null
            ? null
            : new ConsoleSession(row.Hash, row.TokenId, DbValues.ParseTime(row.CreatedAt), DbValues.ParseTime(row.LastSeenAt), DbValues.ParseTime(row.ExpiresAt),
                row.OidcSubject is null ? null : new ConsoleOidcLogin(row.OidcSubject, row.OidcName ?? row.OidcSubject, DbValues.ParseStrings(row.OidcGroups ?? "[]")));
    }

    public async Task TouchAsync(byte[] hash, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Touch, new { Hash = hash, At = DbValues.Time(at) }, cancellationToken: ct));
    }

    public async Task<bool> DeleteAsync(byte[] hash, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(Delete, new { Hash = hash }, cancellationToken: ct)) > 0;
    }

    public async Task<int> DeleteEndedAsync(DateTimeOffset now, DateTimeOffset idleBefore, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(DeleteEnded, new { Now = DbValues.Time(now), IdleBefore = DbValues.Time(idleBefore) }, cancellationToken: ct));
    }

    private sealed class SessionRow
    {
        public byte[] Hash { get; init; } = [];
        public string? TokenId { get; init; }
        public string? OidcSubject { get; init; }
        public string? OidcName { get; init; }
        public string? OidcGroups { get; init; }
        public string CreatedAt { get; init; } = "";
        public string LastSeenAt { get; init; } = "";
        public string ExpiresAt { get; init; } = "";
    }
}
