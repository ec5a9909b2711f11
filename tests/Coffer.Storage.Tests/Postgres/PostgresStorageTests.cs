using Coffer.Storage.Migrations;
using Coffer.Storage.Postgres;
using Coffer.Testing;
using Npgsql;

namespace Coffer.Storage.Tests.Postgres;

/// <summary>What is PostgreSQL's own: migrations when several nodes start together, the schema
/// version check, and the baseline's parity with SQLite's migrations.</summary>
public sealed class PostgresStorageTests
{
    [Fact]
    public async Task Nodes_starting_together_on_an_empty_database_migrate_it_once()
    {
        var connectionString = await new PostgresFixture().CreateDatabaseAsync();

        var nodes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => PostgresStorage.OpenAsync(connectionString))));
        try
        {
            var versions = await ScalarsAsync(connectionString, "SELECT version FROM schema_migrations ORDER BY version");
            Assert.Equal(Migration.Postgres.Select(m => (long)m.Version), versions);
            Assert.Equal(0, await nodes[^1].KeyStores.CountKeyStoresAsync());
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_database_from_a_newer_Coffer_is_refused()
    {
        var connectionString = await new PostgresFixture().CreateDatabaseAsync();
        using (await PostgresStorage.OpenAsync(connectionString))
        {
        }

        var future = Migration.Latest + 1;
        await ScalarsAsync(connectionString, $"INSERT INTO schema_migrations (version, applied_at) VALUES ({future}, '2030-01-01T00:00:00.0000000Z') RETURNING version");

        var refused = await Assert.ThrowsAsync<SchemaVersionException>(() => PostgresStorage.OpenAsync(connectionString));

        Assert.Equal(future, refused.DatabaseVersion);
        Assert.Equal(Migration.Latest, refused.SupportedVersion);
    }

    [Fact]
    public void The_baseline_reaches_the_version_SQLite_reaches_and_later_scripts_come_in_pairs()
    {
        Assert.Equal("0016_baseline", Migration.Postgres[0].Name);
        Assert.Equal(Migration.Sqlite[^1].Version, Migration.Postgres[^1].Version);
        Assert.Equal(
            Migration.Sqlite.Where(m => m.Version > 16).Select(m => m.Version),
            Migration.Postgres.Skip(1).Select(m => m.Version));
    }

    private static async Task<List<long>> ScalarsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<long>();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture));
        }

        return values;
    }
}
