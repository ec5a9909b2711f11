using Coffer.Storage.Postgres;
using Coffer.Testing;
using Npgsql;

namespace Coffer.Storage.Tests.Postgres;

// Debian's postgresql package, /proc and Unix modes.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocalPostgresTests
{
    [Fact]
    public async Task A_fixture_database_answers_select_1()
    {
        var connectionString = await new PostgresFixture().CreateDatabaseAsync();

        Assert.Equal(1, await ScalarAsync<int>(connectionString, "SELECT 1"));
    }

    [Fact]
    public async Task Databases_of_two_fixtures_are_separate_and_empty()
    {
        var first = await new PostgresFixture().CreateDatabaseAsync();
        var second = await new PostgresFixture().CreateDatabaseAsync();
        await ScalarAsync<int>(first, "CREATE TABLE only_in_first (id int); SELECT 0");

        Assert.NotEqual(first, second);
        Assert.Equal(1L, await ScalarAsync<long>(first, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_first'"));
        Assert.Equal(0L, await ScalarAsync<long>(second, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    [Fact]
    public async Task Data_survives_a_stop_and_a_start_of_the_same_directory()
    {
        var directory = NewDirectory();
        try
        {
            var server = new LocalPostgres(directory);
            await server.StartAsync();
            await ScalarAsync<int>(server.ConnectionString, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before stop'); SELECT 0");
            await server.StopAsync();
            Assert.NotNull(await TryConnectAsync(server.ConnectionString));

            var again = new LocalPostgres(directory);
            await again.StartAsync();

            Assert.Equal("before stop", await ScalarAsync<string>(again.ConnectionString, "SELECT v FROM kept"));
            await again.StopAsync();
        }
        finally
        {
            Delete(directory);
        }
    }

    [Fact]
    public async Task A_killed_server_starts_again_on_its_port_with_its_committed_data()
    {
        var directory = NewDirectory();
        var server = new LocalPostgres(directory);
        try
        {
            await server.StartAsync();
            var port = server.Port;
            await ScalarAsync<int>(server.ConnectionString, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('before kill'); SELECT 0");

            server.Kill();
            Assert.NotNull(await TryConnectAsync(server.ConnectionString));

            await server.StartAsync();
            Assert.Equal(port, server.Port);
            Assert.Equal("before kill", await ScalarAsync<string>(server.ConnectionString, "SELECT v FROM kept"));
        }
        finally
        {
            await server.StopAsync();
            Delete(directory);
        }
    }

    [Fact]
    public async Task The_directory_is_owner_only_and_the_server_listens_on_loopback_only()
    {
        var directory = NewDirectory();
        var server = new LocalPostgres(directory);
        try
        {
            await server.StartAsync();

            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            Assert.Equal("127.0.0.1", await ScalarAsync<string>(server.ConnectionString, "SHOW listen_addresses"));
        }
        finally
        {
            await server.StopAsync();
            Delete(directory);
        }
    }

    [Fact]
    public void A_bin_directory_without_the_server_tools_names_the_package()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new LocalPostgres(NewDirectory(), binDirectory: "/nonexistent/postgresql/bin"));

        Assert.Contains("/nonexistent/postgresql/bin", error.Message, StringComparison.Ordinal);
        Assert.Contains("install Debian's postgresql package", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_Debian_binaries_or_pg_config_the_message_names_the_package()
    {
        var error = Assert.Throws<InvalidOperationException>(() => LocalPostgres.FindBinDirectory("/nonexistent/postgresql", () => null));

        Assert.Contains("install Debian's postgresql package", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_highest_installed_version_is_found()
    {
        var root = Directory.CreateTempSubdirectory("coffer-pgbin-").FullName;
        try
        {
            foreach (var version in new[] { "9.6", "15", "16" })
            {
                var bin = Directory.CreateDirectory(Path.Combine(root, version, "bin")).FullName;
                File.WriteAllText(Path.Combine(bin, "initdb"), "");
                File.WriteAllText(Path.Combine(bin, "pg_ctl"), "");
            }

            Directory.CreateDirectory(Path.Combine(root, "17", "bin")); // a client-only install: no server tools

            Assert.Equal(Path.Combine(root, "16", "bin"), LocalPostgres.FindBinDirectory(root, () => null));
        }
        finally
        {
            Delete(root);
        }
    }

    private static string NewDirectory() =>
        Path.Combine(Path.GetTempPath(), "coffer-pgtest-" + Guid.NewGuid().ToString("N"));

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<NpgsqlException?> TryConnectAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false;Timeout=2");
            await connection.OpenAsync();
            return null;
        }
        catch (NpgsqlException e)
        {
            return e;
        }
    }

    private static void Delete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
