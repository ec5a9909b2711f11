using Coffer.Server.Hosting;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>Scheduled retention on a node whose storage is PostgreSQL: the same archive, cut and
/// removal as on SQLite (docs/audit-retention.md).</summary>
public sealed class AuditRetentionPostgresTests
{
    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task Records_past_their_age_move_into_an_archive_and_the_chain_verifies_across_it_on_PostgreSQL()
    {
        var start = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        var connectionString = await _postgres.CreateDatabaseAsync();
        await using var node = await DevServer.StartAsync(options =>
        {
            options.Storage.Engine = StorageOptions.Postgres;
            options.Storage.ConnectionString = connectionString;
            options.Audit.Retention.MaxAgeDays = 7;
        }, time: time);
        await node.Server.AuditRetention.WaitForRunAsync(start).WaitAsync(TimeSpan.FromSeconds(60));
        await node.Admin.CreateKeyStoreAsync();

        time.Advance(TimeSpan.FromDays(8));
        await node.Server.AuditRetention.WaitForRunAsync(time.GetUtcNow()).WaitAsync(TimeSpan.FromSeconds(60));

        var archive = (await node.Admin.GetJsonAsync("/api/v1/audit/archives")).AsArray().Single()!;
        var through = (long)archive["throughSequence"]!;
        var live = await node.Server.Seal.Storage.Audit.ReadChainAsync(1, 1000);
        Assert.Equal(through + 1, live.Records[0].Sequence);
        var whole = await node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");
        Assert.True((bool)whole["ok"]!, whole.ToJsonString());
        Assert.Equal((long)whole["lastSequence"]!, (long)whole["records"]!);
        Assert.Equal(1, (long)(await node.Admin.AllRecordsAsync())[0]["sequence"]!);
    }
}
