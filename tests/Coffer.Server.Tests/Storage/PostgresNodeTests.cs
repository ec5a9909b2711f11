using System.Net;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Server.Hosting;
using Coffer.Testing;
using Npgsql;

namespace Coffer.Server.Tests.Storage;

/// <summary>A real Coffer node whose storage is PostgreSQL (<c>"Storage": { "Engine": "postgres" }</c>),
/// driven over its real listeners: management API and SigV4-signed XKS calls.</summary>
public sealed class PostgresNodeTests
{
    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task A_node_on_PostgreSQL_creates_a_key_through_the_management_API_and_encrypts_and_decrypts_with_it()
    {
        var connectionString = await _postgres.CreateDatabaseAsync();
        await using var node = await DevServer.StartAsync(options => UsePostgres(options, connectionString));

        var stores = (await node.Admin.GetJsonAsync("/api/v1/keystores")).AsArray();
        var demo = (string)stores.Single(s => (string?)s!["uriPrefix"] == node.Info.UriPrefix)!["id"]!;
        using (var created = await node.Admin.PostJsonAsync($"/api/v1/keystores/{demo}/keys", new { name = "orders-key" }))
        {
            await created.JsonAsync(HttpStatusCode.Created);
        }

        var xks = XksClient.For(node);
        var sealedData = await xks.MustEncryptAsync("orders-key", [7, 8, 9]);
        var decrypted = await xks.DecryptAsync("orders-key", sealedData);

        XksAssert.Ok(decrypted);
        Assert.Equal([7, 8, 9], decrypted.Bytes("plaintext"));
        // The key and the calls' audit records are in PostgreSQL, and no SQLite file was made.
        Assert.Equal(1L, await ScalarAsync(connectionString, "SELECT COUNT(*) FROM keys WHERE external_id = 'orders-key'"));
        Assert.True(await ScalarAsync(connectionString, "SELECT COALESCE(MAX(last_seq), 0) FROM audit_batches") >= 2);
        Assert.False(File.Exists(Path.Combine(node.DataDirectory, "coffer.db")));
    }

    [Fact]
    public async Task A_connection_string_with_a_password_in_it_is_refused_at_start_without_showing_the_password()
    {
        var connectionString = await _postgres.CreateDatabaseAsync() + ";Password=hunter2-in-clear";

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => DevServer.StartAsync(options => UsePostgres(options, connectionString)));

        Assert.Contains("Storage.PasswordFile", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_password_is_read_from_the_password_file()
    {
        var connectionString = await _postgres.CreateDatabaseAsync();
        var directory = Directory.CreateTempSubdirectory("coffer-pgpass-");
        try
        {
            // The test server trusts loopback, so a wrong password would pass too: a missing file shows
            // that the file is what is read.
            var missing = Path.Combine(directory.FullName, "missing");
            await Assert.ThrowsAsync<FileNotFoundException>(() => DevServer.StartAsync(options =>
            {
                UsePostgres(options, connectionString);
                options.Storage.PasswordFile = missing;
            }));

            var file = Path.Combine(directory.FullName, "password");
            await File.WriteAllTextAsync(file, "from-the-file\n");
            await using var node = await DevServer.StartAsync(options =>
            {
                UsePostgres(options, connectionString);
                options.Storage.PasswordFile = file;
            });
            Assert.False(node.Server.IsSealed);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static void UsePostgres(CofferOptions options, string connectionString)
    {
        options.Storage.Engine = StorageOptions.Postgres;
        options.Storage.ConnectionString = connectionString;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
