using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Coffer.Audit;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Audit.Sinks;
using Coffer.Storage.Repositories;
using Coffer.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit.Abstractions;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// Two Coffer nodes on one database — one PostgreSQL database, or one SQLite file — serving signed
/// XKS encrypts at the same time keep one audit chain: every answered call is in it once, the two
/// nodes' batches interleave, verify passes over the whole log and finds one record of the second
/// node changed in the database (docs/cluster.md, "One audit log").
/// </summary>
public sealed class ClusterAuditTests(ITestOutputHelper output)
{
    private const int CallsPerNode = 300;
    private const int ClientsPerNode = 16;

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task Two_nodes_on_one_PostgreSQL_database_write_one_audit_chain_that_verifies()
    {
        var connectionString = await _postgres.CreateDatabaseAsync();
        await TwoNodesWriteOneChainAsync(
            options =>
            {
                options.Storage.Engine = StorageOptions.Postgres;
                options.Storage.ConnectionString = connectionString;
            },
            _ => new NpgsqlConnection(connectionString));
    }

    /// <summary>The same calls on one node: the baseline the two-node figures are compared with.</summary>
    [Fact]
    public async Task One_node_on_PostgreSQL_records_each_of_the_same_calls_once()
    {
        var connectionString = await _postgres.CreateDatabaseAsync();
        await using var node = await DevServer.StartAsync(options =>
        {
            options.Storage.Engine = StorageOptions.Postgres;
            options.Storage.ConnectionString = connectionString;
        });

        var clock = Stopwatch.StartNew();
        var answered = await EncryptAsync(node, "node-a", 2 * CallsPerNode, 2 * ClientsPerNode);
        Report("one node", node, clock.Elapsed);

        Assert.All(answered, r => Assert.Equal(200, r.Status));
        var chain = await node.Server.Seal.Storage.Audit.ReadChainAsync(1, 100_000);
        var ids = chain.Records.Select(r => r.Event.KmsRequestId).OfType<string>().ToList();
        Assert.Equal(answered.Select(r => r.Id).Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Two_nodes_on_one_SQLite_file_write_one_audit_chain_that_verifies()
    {
        await TwoNodesWriteOneChainAsync(_ => { }, node => new SqliteConnection($"Data Source={AuditDatabase.PathOf(node)};Pooling=False"));
    }

    [Fact]
    public async Task A_sink_on_one_node_delivers_the_records_of_the_other_and_counts_them_in_its_backlog()
    {
        await using var a = await DevServer.StartAsync(options =>
        {
            options.NodeId = "node-a";
            options.Audit.File = new FileSinkOptions { Enabled = true, MaxRetryDelaySeconds = 1 };
        });
        await using var b = await DevServer.StartAsync(options => options.NodeId = "node-b", dataDirectory: a.DataDirectory);

        var response = await XksClient.For(b).EncryptAsync(b.Info.KeyId, [1], kmsRequestId: "written-by-node-b");
        Assert.Equal(200, response.Status);

        // The sink's head is the chain's, which node B extended, not node A's last record.
        var delivered = await a.Admin.WaitForSinkAsync("file", sink => (long)sink["cursor"]! == b.Server.Audit.Head.Sequence);
        Assert.Equal(b.Server.Audit.Head.Sequence, (long)delivered["head"]!);
        Assert.Contains("written-by-node-b", await File.ReadAllTextAsync(Path.Combine(a.DataDirectory, "audit.jsonl")), StringComparison.Ordinal);
    }

    private async Task TwoNodesWriteOneChainAsync(Action<CofferOptions> storage, Func<DevServer, DbConnection> database)
    {
        await using var a = await DevServer.StartAsync(options =>
        {
            storage(options);
            options.NodeId = "node-a";
        });
        // The same data directory: the dev seal's key (and, for SQLite, the database file).
        await using var b = await DevServer.StartAsync(options =>
        {
            storage(options);
            options.NodeId = "node-b";
        }, dataDirectory: a.DataDirectory);

        var clock = Stopwatch.StartNew();
        var answered = await Task.WhenAll(EncryptAsync(a, "node-a", CallsPerNode, ClientsPerNode), EncryptAsync(b, "node-b", CallsPerNode, ClientsPerNode));
        var elapsed = clock.Elapsed;
        Report("node-a", a, elapsed);
        Report("node-b", b, elapsed);

        // Every call was answered: neither node's audit writer was refused by the other's batches.
        Assert.All(answered.SelectMany(ids => ids), r => Assert.Equal(200, r.Status));

        var chain = await a.Server.Seal.Storage.Audit.ReadChainAsync(1, 100_000);
        Assert.True(chain.IsLast);
        var counts = chain.Records.Where(r => r.Event.KmsRequestId is not null)
            .GroupBy(r => r.Event.KmsRequestId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var (id, _) in answered.SelectMany(ids => ids))
        {
            Assert.Equal(1, counts.GetValueOrDefault(id));
        }

        // The nodes took turns on the one chain: the writer changes more than once.
        var writers = chain.Records.Where(r => r.Event.Action == "xks.encrypt").Select(r => r.Node).ToList();
        var switches = writers.Zip(writers.Skip(1)).Count(pair => pair.First != pair.Second);
        output.WriteLine($"{writers.Count} encrypt records, the writing node changes {switches} times along the chain");
        Assert.True(switches >= 2, $"the chain does not interleave the nodes: {switches} switches");

        var verified = await a.Admin.VerifyAsync();
        Assert.True((bool)verified["ok"]!, verified.ToJsonString());
        Assert.Equal(chain.Records[^1].Sequence, (long)verified["lastSequence"]!);

        // One record of node B, changed in the database: verify names it.
        var victim = chain.Records.Where(r => r.Node == "node-b" && r.Event.KmsRequestId is not null).ElementAt(CallsPerNode / 2);
        await using (var connection = database(a))
        {
            await connection.OpenAsync();
            Assert.Equal(1, await ChangeStoredRecordAsync(connection, victim));
        }

        var tampered = await a.Admin.VerifyAsync(full: true);
        Assert.False((bool)tampered["ok"]!);
        Assert.Equal(victim.Sequence, (long)tampered["problemSequence"]!);
    }

    // Signed encrypts from concurrent callers; each call's kmsRequestId and status.
    private static async Task<(string Id, int Status)[]> EncryptAsync(DevServer node, string name, int calls, int clients)
    {
        var xks = XksClient.For(node);
        var next = -1;
        var results = new (string Id, int Status)[calls];
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < calls; i = Interlocked.Increment(ref next))
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"{name}-call-{i:D4}");
                var response = await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3], kmsRequestId: id);
                results[i] = (id, response.Status);
            }
        })));
        return results;
    }

    // Replaces the record's kmsRequestId in its stored batch (unpacked, changed, packed again) by another of the same length.
    private static async Task<int> ChangeStoredRecordAsync(DbConnection connection, AuditRecord record)
    {
        var id = Encoding.UTF8.GetBytes(record.Event.KmsRequestId!);
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT first_seq, records FROM audit_batches WHERE first_seq <= @seq ORDER BY first_seq DESC LIMIT 1";
        AddParameter(select, "@seq", record.Sequence);
        long first;
        byte[] records;
        await using (var reader = await select.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            first = reader.GetInt64(0);
            records = AuditBatchBlob.Unpack((byte[])reader.GetValue(1), int.MaxValue / 100_000)!;
        }

        var at = records.AsSpan().IndexOf(id);
        Assert.True(at >= 0);
        records[at + id.Length - 1] ^= 0x01;
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE audit_batches SET records = @records WHERE first_seq = @first";
        AddParameter(update, "@records", AuditBatchBlob.Pack(records, new()).ToArray());
        AddParameter(update, "@first", first);
        return await update.ExecuteNonQueryAsync();
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    // The figures of docs/cluster.md, "One audit log".
    private void Report(string name, DevServer node, TimeSpan elapsed)
    {
        var (batches, records, commit, lockWait) = node.Server.Audit.BatchTotals;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {batches} batches in {elapsed.TotalSeconds:F1} s ({batches / elapsed.TotalSeconds:F0}/s), {(double)records / Math.Max(1, batches):F1} records/batch, " +
            $"commit {commit.TotalMilliseconds / Math.Max(1, batches):F2} ms/batch, of which waiting for the chain's lock {lockWait.TotalMilliseconds / Math.Max(1, batches):F2} ms/batch"));
    }
}
