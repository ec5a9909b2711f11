using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class TrafficRepository(CofferStorage storage) : ITrafficRepository
{
    // Standard upsert, the same on SQLite and PostgreSQL: two writers of one row add up.
    private const string Add = """
        INSERT INTO xks_traffic (minute, node_id, outcome, answer, calls) VALUES (@Minute, @NodeId, @Outcome, @Answer, @Calls)
        ON CONFLICT (minute, node_id, outcome, answer) DO UPDATE SET calls = xks_traffic.calls + excluded.calls
        """;

    private const string DeleteOld = "DELETE FROM xks_traffic WHERE minute < @KeepFrom";

    private const string Select = """
        SELECT minute AS Minute, outcome AS Outcome, answer AS Answer, SUM(calls) AS Calls FROM xks_traffic
        WHERE minute >= @From GROUP BY minute, outcome, answer ORDER BY minute, outcome, answer
        """;

    public async Task AddAsync(string nodeId, long minute, IReadOnlyList<TrafficCount> counts, long keepFrom, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(counts);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        foreach (var count in counts)
        {
            await connection.ExecuteAsync(new CommandDefinition(Add, new { Minute = minute, NodeId = nodeId, count.Outcome, count.Answer, count.Calls }, transaction, cancellationToken: ct));
        }

        await connection.ExecuteAsync(new CommandDefinition(DeleteOld, new { KeepFrom = keepFrom }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<TrafficCount>> ListAsync(long fromMinute, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(Select, new { From = fromMinute }, cancellationToken: ct));
        return [.. rows.Select(r => new TrafficCount(r.Minute, r.Outcome, r.Answer, r.Calls))];
    }

    private sealed class Row
    {
        public long Minute { get; init; }
        public string Outcome { get; init; } = "";
        public string Answer { get; init; } = "";
        public long Calls { get; init; }
    }
}
