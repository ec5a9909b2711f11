using System.Net;
using System.Text.Json.Nodes;
using Coffer.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// Retention: an administrator archives a range of the chain into a file; the database
/// forgets it, the chain continues across the cut, and verify proves archives and database as one
/// chain — while an editor can neither change an archive nor hide records behind a forged cut.
/// </summary>
public sealed class AuditArchiveTests
{
    [Fact]
    public async Task Archive_moves_the_oldest_records_into_a_file_and_the_chain_verifies_across_the_cut()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        var head = db.LastSequence;

        var archive = await ArchiveAsync(node, new { throughSequence = head - 3 });

        var through = (long)archive["throughSequence"]!;
        Assert.Equal(1, (long)archive["firstSequence"]!);
        Assert.InRange(through, 1, head - 3); // ends on a checkpoint at or before what was asked
        Assert.Equal(through + 1, db.FirstSequence);
        var file = Path.Combine(node.DataDirectory, "audit-archives", (string)archive["fileName"]!);
        var lines = File.ReadAllLines(file);
        Assert.Equal(through + 1, lines.Length); // a header, then records 1..through
        Assert.Contains("\"format\":\"coffer-audit-archive-v1\"", lines[0], StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file))), (string)archive["fileSha256"]!);

        // New records continue the chain from the cut.
        await node.Admin.CreateKeyStoreAsync();
        var live = await node.Admin.VerifyAsync();
        var whole = await node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");

        Assert.True((bool)live["ok"]!, live.ToJsonString());
        Assert.True((bool)whole["ok"]!, whole.ToJsonString());
        Assert.Equal((long)live["lastSequence"]!, (long)whole["lastSequence"]!);
        Assert.Equal((long)whole["lastSequence"]!, (long)whole["records"]!); // every record from 1 on
        Assert.True((long)live["records"]! < (long)whole["records"]!);
    }

    [Fact]
    public async Task Second_archive_continues_where_the_first_ended_and_both_are_listed()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        var first = await ArchiveAsync(node, new { throughSequence = 4 });
        await node.Admin.CreateKeyStoreAsync();
        await node.Admin.CreateKeyStoreAsync();

        var second = await ArchiveAsync(node, new { });
        var list = (await node.Admin.GetJsonAsync("/api/v1/audit/archives")).AsArray();
        var whole = await node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");

        Assert.Equal((long)first["throughSequence"]! + 1, (long)second["firstSequence"]!);
        Assert.Equal(2, list.Count);
        Assert.Equal((string)second["fileName"]!, (string)list[1]!["fileName"]!);
        Assert.True((bool)whole["ok"]!, whole.ToJsonString());
        using var download = await node.Admin.GetAsync($"/api/v1/audit/archives/{(long)second["throughSequence"]!}/file");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal((string)second["fileSha256"]!, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await download.Content.ReadAsByteArrayAsync())));
    }

    [Fact]
    public async Task Changed_record_in_an_archive_file_is_found_at_its_number()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        var archive = await ArchiveAsync(node, new { });
        var file = Path.Combine(node.DataDirectory, "audit-archives", (string)archive["fileName"]!);
        var lines = File.ReadAllLines(file);
        var record = JsonNode.Parse(lines[3])!; // record 3
        record["actorId"] = "someone-else";
        lines[3] = record.ToJsonString();
        File.WriteAllLines(file, lines);

        var live = await node.Admin.VerifyAsync();
        var whole = await node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true");

        Assert.True((bool)live["ok"]!, live.ToJsonString()); // the database part is untouched
        AssertProblem(whole, "changed", 3);
    }

    [Fact]
    public async Task Missing_archive_file_is_reported_with_the_records_it_held()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        var archive = await ArchiveAsync(node, new { });
        File.Move(Path.Combine(node.DataDirectory, "audit-archives", (string)archive["fileName"]!), Path.Combine(node.DataDirectory, "elsewhere.jsonl"));

        AssertProblem(await node.Admin.GetJsonAsync("/api/v1/audit/verify?archives=true"), "missing", 1);
    }

    [Fact]
    public async Task Records_deleted_behind_a_forged_cut_are_found()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        const long hidden = 6;
        var hash = Convert.ToHexString(db.Records().Single(r => r.Sequence == hidden).Hash);

        // The editor removes records 1..6 and claims they were archived, without the audit key.
        db.Delete(r => r.Sequence <= hidden);
        db.Execute($"INSERT INTO audit_archives VALUES ({hidden}, 1, X'{hash}', 'audit-forged.jsonl', zeroblob(32), '2026-01-01T00:00:00.000Z', zeroblob(32))");

        AssertProblem(await node.Admin.VerifyAsync(), "bad-checkpoint", 1);
    }

    [Fact]
    public async Task Removing_the_archive_row_exposes_the_gap()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        await ArchiveAsync(node, new { throughSequence = 5 });

        db.Execute("DELETE FROM audit_archives");

        var result = await node.Admin.VerifyAsync();
        AssertProblem(result, "missing", 1);
    }

    [Fact]
    public async Task Archive_that_cannot_be_made_is_refused_and_changes_nothing()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();
        using var db = new AuditDatabase(node);

        using var nothing = await node.Admin.PostJsonAsync("/api/v1/audit/archives", new { throughSequence = 0 });
        var refusedNothing = await nothing.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("nothing to archive", (string)refusedNothing["detail"]!, StringComparison.Ordinal);

        // A range that does not verify stays where an auditor can see it.
        Assert.Equal(1, db.Edit(2, e => e with { Details = "edited" }));
        var before = db.RecordCount;
        using var broken = await node.Admin.PostJsonAsync("/api/v1/audit/archives", new { });
        var refusedBroken = await broken.ProblemAsync(HttpStatusCode.Conflict);

        Assert.Contains("record 2", (string)refusedBroken["detail"]!, StringComparison.Ordinal);
        // Only the audit records of the two refused requests were added; none was removed.
        Assert.Equal(1, db.FirstSequence);
        Assert.Equal(0, db.Scalar("SELECT COUNT(*) FROM audit_archives"));
        Assert.True(db.RecordCount >= before);
        var directory = Path.Combine(node.DataDirectory, "audit-archives");
        Assert.Empty(Directory.Exists(directory) ? Directory.GetFiles(directory) : []);
    }

    [Fact]
    public async Task Archiving_is_itself_an_audit_record_by_its_actor()
    {
        await using var node = await AuditTamperTests.StartWithHistoryAsync();

        await ArchiveAsync(node, new { });

        var records = (await node.Admin.GetJsonAsync("/api/v1/audit/records?action=audit.archive")).AsObject()["records"]!.AsArray();
        Assert.Contains(records, r => (string)r!["outcome"]! == "requested");
        Assert.Contains(records, r => (string)r!["outcome"]! == "ok");
    }

    private static async Task<JsonNode> ArchiveAsync(DevServer node, object body)
    {
        using var response = await node.Admin.PostJsonAsync("/api/v1/audit/archives", body);
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    private static void AssertProblem(JsonNode result, string kind, long sequence)
    {
        Assert.False((bool)result["ok"]!, result.ToJsonString());
        Assert.Equal(kind, (string?)result["problem"]);
        Assert.Equal(sequence, (long)result["problemSequence"]!);
    }
}
