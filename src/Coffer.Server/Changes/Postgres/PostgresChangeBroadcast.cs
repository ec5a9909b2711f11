using Coffer.Changes;
using Npgsql;

namespace Coffer.Server.Changes.Postgres;

/// <summary>
/// Tells the other nodes on the shared PostgreSQL database about a change: one <c>pg_notify</c> on
/// <see cref="ChangePayload.Channel"/>. PostgreSQL delivers a notification to every listening session,
/// in commit order, and to none that was not listening then: <see cref="PostgresChangeListener"/>
/// reloads everything after each (re)connect for that reason.
/// </summary>
internal sealed class PostgresChangeBroadcast(NpgsqlDataSource dataSource) : IChangeBroadcast
{
    public async Task SendAsync(ChangeNotice notice, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(notice);
        await using var command = dataSource.CreateCommand("SELECT pg_notify($1, $2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ChangePayload.Channel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ChangePayload.Format(notice) });
        await command.ExecuteNonQueryAsync(ct);
    }
}
