using Coffer.Storage.Sqlite;
using Coffer.Storage.Tests.Conformance;

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

        public void Dispose() => _database.Dispose();
    }
}
