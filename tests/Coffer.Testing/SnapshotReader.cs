using Microsoft.Data.Sqlite;

namespace Coffer.Testing;

/// <summary>
/// A long read transaction on a node's SQLite file, as a backup tool or a slow export would hold one:
/// until disposed it keeps the snapshot it started with, so SQLite can neither copy later WAL frames
/// over the pages it reads nor truncate the WAL. Its own connection, unpooled, so nothing of it
/// lingers once disposed.
/// </summary>
public sealed class SnapshotReader : IAsyncDisposable
{
    private readonly SqliteConnection _connection;

    private SnapshotReader(SqliteConnection connection) => _connection = connection;

    public static async Task<SnapshotReader> OpenAsync(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var begin = connection.CreateCommand();
        // A deferred transaction takes its snapshot at its first read.
        begin.CommandText = "BEGIN; SELECT COUNT(*) FROM key_versions;";
        await begin.ExecuteScalarAsync();
        return new SnapshotReader(connection);
    }

    public async ValueTask DisposeAsync()
    {
        await using (var rollback = _connection.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync();
        }

        await _connection.DisposeAsync();
    }
}
