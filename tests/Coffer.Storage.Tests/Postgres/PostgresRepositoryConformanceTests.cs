using Coffer.Storage.Postgres;
using Coffer.Testing;
using Coffer.Storage.Tests.Conformance;
using Npgsql;

namespace Coffer.Storage.Tests.Postgres;

/// <summary>The repository conformance suite on a real PostgreSQL server, a fresh database per test;
/// every <see cref="IStorageFactory.OpenAsync"/> is another pool on it, as another node would be.</summary>
public sealed class PostgresRepositoryConformanceTests() : RepositoryConformanceTests(new PostgresFactory())
{
    private sealed class PostgresFactory : IStorageFactory
    {
        private string? _connectionString;

        public async Task<OpenedStorage> OpenAsync()
        {
            _connectionString ??= await new PostgresFixture().CreateDatabaseAsync();
            var storage = await PostgresStorage.OpenAsync(_connectionString);
            return new OpenedStorage(storage.KeyStores, storage.Keys, storage.System, storage.Audit, storage.Alerts, storage.Rotation, storage);
        }

        public async Task<long> AuditBytesAsync()
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT pg_total_relation_size('audit_batches') + pg_total_relation_size('audit_batch_keys') + pg_total_relation_size('audit_checkpoints')";
            return (long)(await command.ExecuteScalarAsync())!;
        }

        public void Dispose()
        {
        }
    }
}
