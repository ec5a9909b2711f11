using System.Text;
using System.Text.Json;
using Coffer.Server.Hosting;
using Coffer.Storage.Postgres;
using Coffer.Testing;
using Npgsql;
using static Coffer.Cli.Tests.BackupSteps;

namespace Coffer.Cli.Tests;

/// <summary>
/// The PostgreSQL path of docs/backup.md: the database is dumped with pg_dump while a node serves,
/// restored with pg_restore into a new database, and <c>coffer restore-postgres</c> checks it and
/// applies the destruction ledger before a node starts on it.
/// </summary>
public sealed class BackupPostgresTests : IDisposable
{
    private readonly string _root = Cli.EmptyDirectory();

    private string DataDirectory => Path.Combine(_root, "data");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_pg_dump_restored_with_pg_restore_is_checked_the_ledger_applied_and_old_ciphertext_decrypts()
    {
        var postgres = new PostgresFixture();
        var live = await postgres.CreateDatabaseAsync();
        var time = NewClock();
        var dump = Path.Combine(_root, "coffer.dump");
        var ledger = Path.Combine(_root, "ledger.jsonl");
        var plaintext = Encoding.UTF8.GetBytes("made before the dump");
        XksEncrypted sealedData;
        string doomed;
        await using (var node = await DevServer.StartAsync(o => UsePostgres(o, live), DataDirectory, time))
        {
            doomed = (await MustAsync(node, "key", "create", "demo", "--name", "doomed", "--json")).Json.GetProperty("id").GetString()!;
            sealedData = await (XksClient.For(node) with { SigningTime = time.GetUtcNow() }).MustEncryptAsync(node.Info.KeyId, plaintext);
            await RunAsync("pg_dump", ["--format=custom", "--file", dump, .. Connection(live)]);
            var refused = await MustFailAsync(node, "backup", "--output", Path.Combine(_root, "coffer.backup"));
            Assert.Contains("pg_dump", refused.Error, StringComparison.Ordinal);

            await DestroyAsync(node, time, "doomed");
            await MustAsync(node, "audit", "export", "--output", ledger);
        }

        var restored = await postgres.CreateDatabaseAsync();
        await RunAsync("pg_restore", ["--no-owner", "--exit-on-error", .. Connection(restored), dump]);
        var config = Path.Combine(_root, "coffer.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new { NodeId = "restore-check", Storage = new { Engine = "postgres", ConnectionString = restored } }));

        var broken = await postgres.CreateDatabaseAsync();
        await RunAsync("pg_restore", ["--no-owner", "--exit-on-error", .. Connection(broken), dump]);
        await RemoveAnAuditBatchAsync(broken);
        var brokenConfig = Path.Combine(_root, "broken.json");
        await File.WriteAllTextAsync(brokenConfig, JsonSerializer.Serialize(new { NodeId = "restore-check", Storage = new { Engine = "postgres", ConnectionString = broken } }));
        var brokenChain = await Cli.RunProcessAsync(new Dictionary<string, string>(), null, "restore-postgres", "--config", brokenConfig, "--ledger", ledger);

        Assert.Equal(1, brokenChain.ExitCode);
        Assert.Contains("audit log is broken at record", brokenChain.Error, StringComparison.Ordinal);

        var wrongKey = await Cli.RunProcessAsync(new Dictionary<string, string>(), null, "restore-postgres", "--config", config, "--ledger", ledger, "--master-check-id", new string('0', 32));
        var unsaid = await Cli.RunProcessAsync(new Dictionary<string, string>(), null, "restore-postgres", "--config", config);
        var check = await Cli.RunProcessAsync(new Dictionary<string, string>(), null, "restore-postgres", "--config", config, "--ledger", ledger);

        Assert.Equal(1, wrongKey.ExitCode);
        Assert.Contains("belongs to another installation", wrongKey.Error, StringComparison.Ordinal);
        Assert.Equal(2, unsaid.ExitCode);
        Assert.True(check.ExitCode == 0, check.ToString());
        Assert.Matches(@"checked the restored PostgreSQL database: schema \d+, master key check [0-9a-f]{32}", check.Out);
        Assert.True(check.Out.Contains("1 versions and 1 keys destroyed again", StringComparison.Ordinal), check.ToString());
        await using (var node = await DevServer.StartAsync(o => UsePostgres(o, restored), DataDirectory, time))
        {
            Assert.Equal("destroyed", await StatusAsync(node, doomed));
            var decrypted = await (XksClient.For(node) with { SigningTime = time.GetUtcNow() }).DecryptAsync(node.Info.KeyId, sealedData);
            Assert.True(decrypted.Status == 200, decrypted.ToString());
            Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
            Assert.StartsWith("ok: ", (await MustAsync(node, "audit", "verify")).Out, StringComparison.Ordinal);
            var record = (await MustAsync(node, "audit", "list", "--action", "backup.restore", "--json")).Json.GetProperty("records")[0];
            Assert.Contains("coffer restore-postgres", record.GetProperty("details").GetString(), StringComparison.Ordinal);
        }
    }

    /// <summary>Removes a batch of audit records from the middle of the chain, as an editor of the database could.</summary>
    private static async Task RemoveAnAuditBatchAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var remove = new NpgsqlCommand(
            "DELETE FROM audit_batch_keys WHERE first_seq = (SELECT first_seq FROM audit_batches ORDER BY first_seq OFFSET 2 LIMIT 1); " +
            "DELETE FROM audit_batches WHERE first_seq = (SELECT first_seq FROM audit_batches ORDER BY first_seq OFFSET 2 LIMIT 1)", connection);
        Assert.True(await remove.ExecuteNonQueryAsync() > 0, "no audit batch was removed");
    }

    private static void UsePostgres(CofferOptions options, string connectionString)
    {
        options.Storage.Engine = StorageOptions.Postgres;
        options.Storage.ConnectionString = connectionString;
    }

    private static string[] Connection(string connectionString)
    {
        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        return ["--host", parsed.Host!, "--port", parsed.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--username", parsed.Username!, "--dbname", parsed.Database!];
    }

    /// <summary>One of PostgreSQL's own tools, from the same installation the tests' server runs from.</summary>
    private static async Task RunAsync(string tool, params string[] args)
    {
        var run = await ExternalTool.RunAsync(Path.Combine(LocalPostgres.FindBinDirectory(), tool), args);
        Assert.True(run.ExitCode == 0, $"{tool}: {run}");
    }

    private static async Task<CliResult> MustFailAsync(DevServer node, params string[] args)
    {
        var result = await Cli.RunAsync(node, args);
        Assert.True(result.ExitCode != 0, $"coffer {string.Join(' ', args)} should fail: {result}");
        return result;
    }
}
