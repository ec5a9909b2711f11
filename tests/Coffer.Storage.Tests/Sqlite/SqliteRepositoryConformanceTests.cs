using Coffer.Storage.Sqlite;
using Coffer.Storage.Tests.Conformance;
using Microsoft.Data.Sqlite;

namespace Coffer.Storage.Tests.Sqlite;

/// <summary>The repository conformance suite on a real SQLite file (no in-memory database).</summary>
public sealed class SqliteRepositoryConformanceTests() : RepositoryConformanceTests(new SqliteFactory())
{
    private sealed class SqliteFactory : IStorageFactory
    {
        private readonly TempDatabase _database = new();

        public async Task<OpenedStorage> OpenAsync()
        {
            var storage = await SqliteStorage.OpenAsync(_database.FilePath, CancellationToken.None);
            return new OpenedStorage(storage.KeyStores, storage.Keys, storage.System, storage.Audit, storage.Alerts, storage.Rotation, storage);
        }

        public async Task<long> AuditBytesAsync()
        {
            // page_count counts the pages committed to the WAL too, so no checkpoint is needed.
            await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _database.FilePath, Pooling = false }.ToString());
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()";
            return (long)(await command.ExecuteScalarAsync())!;
        }

        public void Dispose() => _database.Dispose();
    }
}
