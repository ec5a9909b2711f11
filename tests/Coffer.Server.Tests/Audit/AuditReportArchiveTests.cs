using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// A report or a listing over a period that reaches into archived records: the report counts them from
/// the verified archive file, or says plainly which are left out and why; the listing names them.
/// </summary>
public sealed class AuditReportArchiveTests
{
    [Fact]
    public async Task Report_over_an_archived_period_counts_the_archived_calls_from_the_verified_file()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report");
        using var markdown = await node.Admin.GetAsync("/api/v1/audit/report?format=markdown");

        var statement = $"Records 1 to {through} are archived in {file}; the file verified, and those of them in this period are included.";
        Assert.Equal(statement, (string?)report["archived"]!["statement"]);
        Assert.True((bool)report["archived"]!["archives"]![0]!["included"]!);
        Assert.Equal(3, (long)report["keys"]![0]!["calls"]!["served"]!);
        Assert.Contains(report["changes"]!.AsArray(), c => (string?)c!["action"] == "key.create"); // an archived change
        Assert.Contains("**Archived records:** " + statement.Replace("_", "\\_", StringComparison.Ordinal), await markdown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_says_plainly_that_archived_records_are_left_out_when_their_file_is_gone()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);
        var path = Path.Combine(node.DataDirectory, "audit-archives", file);
        File.Move(path, path + ".moved");

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report");

        Assert.Equal($"Records 1 to {through} are archived in {file} and are NOT included: the file is not in the archive directory (Audit.ArchiveDirectory); put it back there to include them.",
            (string?)report["archived"]!["statement"]);
        Assert.False((bool)report["archived"]!["archives"]![0]!["included"]!);
        Assert.Equal(1, (long)report["keys"]![0]!["calls"]!["served"]!);
    }

    [Fact]
    public async Task Report_leaves_out_an_archive_file_that_is_not_the_one_Coffer_wrote_even_after_reading_it()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);
        var path = Path.Combine(node.DataDirectory, "audit-archives", file);
        // The header is not part of the chain: only the file's SHA-256 finds this, after every record was read.
        var lines = File.ReadAllLines(path);
        lines[0] = lines[0].Replace(new string('0', 64), new string('1', 64), StringComparison.Ordinal);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report");

        Assert.Equal($"Records 1 to {through} are archived in {file} and are NOT included: the file does not verify ({file} is not the file Coffer wrote: its SHA-256 differs); run 'coffer audit verify --archives'.",
            (string?)report["archived"]!["statement"]);
        Assert.Equal(1, (long)report["keys"]![0]!["calls"]!["served"]!);
    }

    [Fact]
    public async Task Report_does_not_read_a_file_that_an_edited_archive_row_points_to()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);
        var elsewhere = Path.Combine(node.DataDirectory, "elsewhere.jsonl");
        File.Copy(Path.Combine(node.DataDirectory, "audit-archives", file), elsewhere);
        using (var db = new AuditDatabase(node))
        {
            Assert.Equal(1, db.Execute("UPDATE audit_archives SET file_name = '../elsewhere.jsonl'"));
        }

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report");

        Assert.Equal($"Records 1 to {through} are archived in ../elsewhere.jsonl and are NOT included: its row in the database names another file than the one Coffer wrote ({file}); run 'coffer audit verify --archives'.",
            (string?)report["archived"]!["statement"]);
        Assert.Equal(1, (long)report["keys"]![0]!["calls"]!["served"]!);
    }

    [Fact]
    public async Task Download_serves_the_file_Coffer_wrote_for_the_range_whatever_an_edited_row_names()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);
        File.WriteAllText(Path.Combine(node.DataDirectory, "elsewhere.jsonl"), "not an archive: a file outside the archive directory\n");
        using (var db = new AuditDatabase(node))
        {
            Assert.Equal(1, db.Execute("UPDATE audit_archives SET file_name = '../elsewhere.jsonl'"));
        }

        using var download = await node.Admin.GetAsync($"/api/v1/audit/archives/{through}/file");

        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(node.DataDirectory, "audit-archives", file)), await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Report_of_a_period_after_the_archives_says_none_of_them_belongs_to_it()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);
        var from = Uri.EscapeDataString((await NewestArchivedTimeAsync(node, file)).AddMilliseconds(1).ToString("O", CultureInfo.InvariantCulture));

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report?from=" + from);

        Assert.Equal($"Records 1 to {through} are archived (the newest of them written at {Text(await NewestArchivedTimeAsync(node, file))} UTC, before this period), so none of them belongs to it.",
            (string?)report["archived"]!["statement"]);
        Assert.Equal(1, (long)report["keys"]![0]!["calls"]!["served"]!);
    }

    [Fact]
    public async Task Listing_pages_from_the_live_log_into_the_archive_with_one_cursor_and_filters()
    {
        await using var node = await DevServer.StartAsync();
        var (through, _) = await ArchiveTwoCallsThenCallAgainAsync(node);
        var newest = await NewestArchivedTimeAsync(node, (await node.Admin.GetJsonAsync("/api/v1/audit/archives"))[0]!["fileName"]!.ToString());
        var after = Uri.EscapeDataString(newest.AddMilliseconds(1).ToString("O", CultureInfo.InvariantCulture));

        var all = await node.Admin.AllRecordsAsync(); // two a page: one page spans the cut
        var encrypts = await node.Admin.AllRecordsAsync("&action=xks.encrypt");
        var later = await node.Admin.GetJsonAsync("/api/v1/audit/records?from=" + after);

        var head = (long)all[^1]["sequence"]!;
        Assert.True(head > through + 1);
        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), all.Select(r => (long)r["sequence"]!)); // each record once
        Assert.Equal(3, encrypts.Count);
        Assert.Equal(2, encrypts.Count(r => (long)r["sequence"]! <= through));
        Assert.All(later["records"]!.AsArray(), r => Assert.True((long)r!["sequence"]! > through));
        Assert.Null(later["archived"]);
    }

    [Fact]
    public async Task Listing_leaves_out_an_archive_that_does_not_verify_and_says_so()
    {
        await using var node = await DevServer.StartAsync();
        var (through, file) = await ArchiveTwoCallsThenCallAgainAsync(node);
        var path = Path.Combine(node.DataDirectory, "audit-archives", file);
        var lines = await File.ReadAllLinesAsync(path);
        var record = JsonNode.Parse(lines[1])!; // record 1
        record["actorId"] = "someone-else";
        lines[1] = record.ToJsonString();
        await File.WriteAllLinesAsync(path, lines);

        var page = await node.Admin.GetJsonAsync("/api/v1/audit/records?limit=1000");

        Assert.All(page["records"]!.AsArray(), r => Assert.True((long)r!["sequence"]! > through));
        Assert.StartsWith($"Records 1 to {through} are archived in {file} and are not listed: ", (string?)page["archived"]);
        Assert.Null(page["next"]);
    }

    // Two XKS calls and the dev set-up go into an archive; one more call stays in the database.
    private static async Task<(long Through, string File)> ArchiveTwoCallsThenCallAgainAsync(DevServer node)
    {
        var xks = XksClient.For(node);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1]));
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [2]));
        JsonNode archive;
        using (var response = await node.Admin.PostJsonAsync("/api/v1/audit/archives", new { }))
        {
            archive = await response.JsonAsync(HttpStatusCode.Created);
        }

        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [3]));
        using var db = new AuditDatabase(node);
        Assert.Single(db.Records(), r => r.Event.Action == "xks.encrypt"); // the other two are archived
        return ((long)archive["throughSequence"]!, (string)archive["fileName"]!);
    }

    // The last archived record's time, from the file itself (the checkpoint at the cut carries the same).
    private static async Task<DateTimeOffset> NewestArchivedTimeAsync(DevServer node, string file)
    {
        var lines = await File.ReadAllLinesAsync(Path.Combine(node.DataDirectory, "audit-archives", file));
        return (DateTimeOffset)JsonNode.Parse(lines[^1])!["time"]!;
    }

    private static string Text(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
