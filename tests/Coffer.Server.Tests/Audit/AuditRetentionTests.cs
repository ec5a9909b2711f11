using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// Scheduled retention (docs/audit-retention.md) by the clock alone: a node whose clock is a
/// <see cref="FakeTimeProvider"/> keeps records for <see cref="MaxAgeDays"/>; moving the clock past the
/// age fires the retention run, which moves the old records into a signed archive. The test waits for
/// that run (never sleeps).
/// </summary>
public sealed class AuditRetentionTests : IAsyncLifetime
{
    private const int MaxAgeDays = 30;

    private static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly FakeTimeProvider _time = new(Start);

    private DevServer _node = null!;

    private string ArchiveDirectory => Path.Combine(_node.DataDirectory, "audit-archives");

    public async Task InitializeAsync()
    {
        _node = await DevServer.StartAsync(o => o.Audit.Retention.MaxAgeDays = MaxAgeDays, time: _time);
        await _node.Server.AuditRetention.WaitForRunAsync(Start).WaitAsync(Patience);

        // A history old enough to be archived once the clock has moved on.
        for (var i = 0; i < 3; i++)
        {
            await _node.Admin.CreateKeyStoreAsync();
        }
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task Records_past_their_age_move_into_an_archive_on_schedule_and_the_chain_verifies_across_it()
    {
        using var db = new AuditDatabase(_node);
        var oldHead = db.LastSequence;
        Assert.Empty(await ArchivesAsync()); // nothing was old at start

        await AdvanceAsync(TimeSpan.FromDays(MaxAgeDays + 1));

        var archive = Assert.Single(await ArchivesAsync())!;
        var through = (long)archive["throughSequence"]!;
        Assert.Equal(1, (long)archive["firstSequence"]!);
        Assert.InRange(through, oldHead - 2, oldHead); // every old record up to the last checkpoint among them
        Assert.Equal(through + 1, db.FirstSequence);
        Assert.Equal(db.LastSequence - through, db.RecordCount); // the live log holds only what followed
        Assert.True(File.Exists(Path.Combine(ArchiveDirectory, (string)archive["fileName"]!)));

        var run = await RecordsAsync("action=audit.retention");
        Assert.Equal(["ok", "requested"], run.Select(r => (string)r["outcome"]!));
        Assert.All(run, r => Assert.Equal("system", (string?)r["actorKind"]));
        Assert.Contains($"records 1 to {through} archived in {(string)archive["fileName"]!}", (string)run[0]["details"]!, StringComparison.Ordinal);

        var whole = await _node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");
        Assert.True((bool)whole["ok"]!, whole.ToJsonString());
        Assert.Equal((long)whole["lastSequence"]!, (long)whole["records"]!); // from record 1 on
        Assert.True((bool)(await _node.Admin.VerifyAsync())["ok"]!);
        Assert.Contains("coffer_audit_retention_failing 0", await _node.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // The readers find the archived records where they now are.
        var listed = await _node.Admin.AllRecordsAsync();
        Assert.Equal(Enumerable.Range(1, listed.Count).Select(i => (long)i), listed.Select(r => (long)r["sequence"]!));
        var report = await _node.Admin.GetJsonAsync("/api/v1/audit/report?from=" + Uri.EscapeDataString(Start.AddDays(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.True((bool)report["archived"]!["archives"]![0]!["included"]!, report["archived"]!.ToJsonString());
    }

    [Fact]
    public async Task A_run_with_nothing_past_its_age_writes_nothing()
    {
        using var db = new AuditDatabase(_node);
        var head = db.LastSequence;

        await AdvanceAsync(TimeSpan.FromDays(MaxAgeDays - 1));

        Assert.Empty(await ArchivesAsync());
        Assert.Empty(await RecordsAsync("action=audit.retention"));
        Assert.Equal(head, db.LastSequence);
        Assert.Equal(1, db.FirstSequence);
    }

    [Fact]
    public async Task A_changed_archive_is_found_by_verify_with_archives()
    {
        await AdvanceAsync(TimeSpan.FromDays(MaxAgeDays + 1));
        var file = Path.Combine(ArchiveDirectory, (string)Assert.Single(await ArchivesAsync())!["fileName"]!);
        var lines = File.ReadAllLines(file);
        var record = JsonNode.Parse(lines[2])!; // record 2
        record["action"] = "keystore.delete";
        lines[2] = record.ToJsonString();
        File.WriteAllLines(file, lines);

        var whole = await _node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");

        Assert.False((bool)whole["ok"]!, whole.ToJsonString());
        Assert.Equal("changed", (string?)whole["problem"]);
        Assert.Equal(2, (long)whole["problemSequence"]!);
    }

    [Fact]
    public async Task A_run_that_stops_between_archive_and_removal_loses_nothing_and_the_next_run_completes_it()
    {
        using var db = new AuditDatabase(_node);
        var before = db.RecordCount;
        // The database refuses every removal: the run stops after the archive's file and row are stored,
        // as a crash there would.
        db.Execute("CREATE TRIGGER no_removal BEFORE DELETE ON audit_batches BEGIN SELECT RAISE(ABORT, 'removal refused'); END");

        await AdvanceAsync(TimeSpan.FromDays(MaxAgeDays + 1));

        var archive = Assert.Single(await ArchivesAsync())!;
        var through = (long)archive["throughSequence"]!;
        Assert.Equal(1, db.FirstSequence); // archived and still live: a duplicate, no gap
        Assert.True(db.RecordCount >= before);
        var failed = (await RecordsAsync("action=audit.retention"))[0];
        Assert.Equal("error", (string?)failed["outcome"]);
        Assert.Contains("coffer_audit_retention_failing 1", await _node.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
        var whole = await _node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");
        Assert.True((bool)whole["ok"]!, whole.ToJsonString());
        Assert.Equal((long)whole["lastSequence"]!, (long)whole["records"]!); // each record counted once

        db.Execute("DROP TRIGGER no_removal");
        await AdvanceAsync(TimeSpan.FromHours(1));

        Assert.Single(await ArchivesAsync()); // the same archive, not a second one
        Assert.Equal(through + 1, db.FirstSequence);
        Assert.True((bool)(await _node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true"))["ok"]!);
        Assert.True((bool)(await _node.Admin.VerifyAsync())["ok"]!);
        Assert.Contains("coffer_audit_retention_failing 0", await _node.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    /// <summary>Moves the clock on and waits for the retention run it fires.</summary>
    private async Task AdvanceAsync(TimeSpan by)
    {
        _time.Advance(by);
        await _node.Server.AuditRetention.WaitForRunAsync(_time.GetUtcNow()).WaitAsync(Patience);
    }

    private async Task<JsonArray> ArchivesAsync() => (await _node.Admin.GetJsonAsync("/api/v1/audit/archives")).AsArray();

    /// <summary>Matching records, newest first.</summary>
    private async Task<List<JsonNode>> RecordsAsync(string filter) =>
        [.. (await _node.Admin.GetJsonAsync("/api/v1/audit/records?limit=1000&" + filter))["records"]!.AsArray().Select(r => r!)];
}
