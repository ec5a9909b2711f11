using Coffer.Cli.Client;
using Coffer.Testing;
using Microsoft.Data.Sqlite;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer audit verify|list</c> against real nodes.</summary>
public sealed class AuditCommandTests
{
    [Fact]
    public async Task Verify_prints_ok_with_an_anchor_and_exits_0_then_1_with_the_record_number_after_tampering()
    {
        await using var node = await DevServer.StartAsync();

        var ok = await Cli.RunAsync(node, "audit", "verify");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Matches(@"^ok: (\d+) records, last seq \1, last checkpoint \1\r?\nanchor: \1:[0-9a-f]{64}\r?\n$", ok.Out);
        Assert.Matches(@"^verified \d+ records \(through \d+ of \d+\), [\d,]+ records/s, ", ok.Error); // progress, on stderr

        using (var db = new AuditDatabase(node))
        {
            Assert.Equal(1, db.Edit(3, e => e with { SourceIp = "198.51.100.7" }));
        }

        // Record 3 is before the checkpoint the first verify left: only a full walk reads it again.
        var incremental = await Cli.RunAsync(node, "audit", "verify");
        Assert.True(incremental.ExitCode == 0, incremental.ToString());
        Assert.Contains("--full walks them again", incremental.Out, StringComparison.Ordinal);

        var broken = await Cli.RunAsync(node, "audit", "verify", "--full");
        Assert.Equal(1, broken.ExitCode);
        Assert.StartsWith("problem: changed at record 3: record 3 was changed", broken.Out, StringComparison.Ordinal);

        var json = await Cli.RunAsync(node, "audit", "verify", "--full", "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.Equal(3, json.Json.GetProperty("problemSequence").GetInt64());
    }

    [Fact]
    public async Task Audit_verbs_whose_work_grows_with_the_log_have_no_call_limit_while_other_calls_keep_theirs()
    {
        await using var node = await DevServer.StartAsync();
        var env = Cli.Environment(node.Info.AdminUrl, node.Info.AdminToken);
        CliEnvironment Limit(string seconds) =>
            env with { Variables = new Dictionary<string, string>(env.Variables) { [ClientSettings.TimeoutVariable] = seconds } };

        // A limit no call can meet (0.1 ms): a call that answers at once times out, the long verbs wait.
        var list = await Cli.RunAsync(Limit("0.0001"), "keystore", "list");
        var verify = await Cli.RunAsync(Limit("0.0001"), "audit", "verify");
        var export = await Cli.RunAsync(Limit("0.0001"), "audit", "export");
        var report = await Cli.RunAsync(Limit("0.0001"), "audit", "report");
        var wrong = await Cli.RunAsync(Limit("soon"), "keystore", "list");

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("did not answer within 0.0001 s", list.Error, StringComparison.Ordinal);
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.StartsWith("ok: ", verify.Out, StringComparison.Ordinal);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("\"action\":\"seal.unseal\"", export.Out, StringComparison.Ordinal);
        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("COFFER_TIMEOUT is 'soon'", wrong.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_by_actor_system_finds_what_coffer_did_itself_and_only_that()
    {
        await using var node = await DevServer.StartAsync();

        var system = await Cli.RunAsync(node, "audit", "list", "--actor", "system", "--json");

        Assert.True(system.ExitCode == 0, system.ToString());
        var records = system.Json.GetProperty("records").EnumerateArray().ToList();
        Assert.Contains(records, r => r.GetProperty("action").GetString() == "seal.unseal");
        Assert.All(records, r => Assert.Equal("system", r.GetProperty("actorKind").GetString()));
    }

    [Fact]
    public async Task Verify_with_the_anchor_it_printed_passes_and_a_malformed_anchor_is_a_usage_error()
    {
        await using var node = await DevServer.StartAsync();
        var first = await Cli.RunAsync(node, "audit", "verify");
        var anchor = first.Out.Split('\n').Single(l => l.StartsWith("anchor: ", StringComparison.Ordinal))["anchor: ".Length..].Trim();

        var again = await Cli.RunAsync(node, "audit", "verify", "--anchor", anchor);
        var wrong = await Cli.RunAsync(node, "audit", "verify", "--anchor", anchor[..anchor.IndexOf(':', StringComparison.Ordinal)] + ":" + new string('0', 64));
        var malformed = await Cli.RunAsync(node, "audit", "verify", "--anchor", "12:abc");

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("problem: rewritten", wrong.Out, StringComparison.Ordinal);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("--anchor takes SEQ:HASH", malformed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Archive_moves_old_records_to_a_listed_file_and_verify_with_archives_walks_from_record_1()
    {
        await using var node = await DevServer.StartAsync();

        var archived = await Cli.RunAsync(node, "audit", "archive", "--through", "4");
        var listed = await Cli.RunAsync(node, "audit", "archives");
        var whole = await Cli.RunAsync(node, "audit", "verify", "--archives", "--json");
        var nothing = await Cli.RunAsync(node, "audit", "archive", "--through", "2");
        var list = await Cli.RunAsync(node, "audit", "list", "--all", "--json");
        var copy = Directory.CreateTempSubdirectory("coffer-archive-copy-").FullName;
        var elsewhere = await Cli.RunAsync(node, "audit", "verify", "--archives", copy);

        Assert.True(archived.ExitCode == 0, archived.ToString());
        var match = System.Text.RegularExpressions.Regex.Match(archived.Out, @"^archived records 1 to (\d+) into (audit-\S+\.jsonl) \(sha256 [0-9a-f]{64}\)");
        Assert.True(match.Success, archived.Out);
        Assert.True(File.Exists(Path.Combine(node.DataDirectory, "audit-archives", match.Groups[2].Value)));
        Assert.Contains(match.Groups[2].Value, listed.Out, StringComparison.Ordinal);
        Assert.True(whole.ExitCode == 0, whole.ToString());
        Assert.Equal(whole.Json.GetProperty("lastSequence").GetInt64(), whole.Json.GetProperty("records").GetInt64());
        Assert.Equal(1, nothing.ExitCode); // records 1..4 are archived already: a 409 problem
        Assert.Contains("nothing to archive", nothing.Error, StringComparison.Ordinal);
        // The listing reads on into the archive: every record from 1 on.
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(list.Json.GetProperty("records").EnumerateArray(), r => r.GetProperty("sequence").GetInt64() == 1);
        // A directory named on the command line is walked instead of Audit.ArchiveDirectory.
        Assert.Equal(1, elsewhere.ExitCode);
        Assert.Contains($"{match.Groups[2].Value}, which is not in {copy}", elsewhere.Out, StringComparison.Ordinal);
        File.Copy(Path.Combine(node.DataDirectory, "audit-archives", match.Groups[2].Value), Path.Combine(copy, match.Groups[2].Value));
        var copied = await Cli.RunAsync(node, "audit", "verify", "--archives", copy);
        Assert.True(copied.ExitCode == 0, copied.ToString());
        Directory.Delete(copy, recursive: true);
    }

    [Fact]
    public async Task List_filters_pages_and_prints_json()
    {
        await using var node = await DevServer.StartAsync();

        // coffer dev made its demo key store, credential and key through the API: two records each.
        var table = await Cli.RunAsync(node, "audit", "list", "--action", "key.create", "--limit", "1");
        var all = await Cli.RunAsync(node, "audit", "list", "--action", "key.create", "--all", "--json");
        var none = await Cli.RunAsync(node, "audit", "list", "--region", "ap-south-2", "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches(@"SEQ\s+TIME\s+ACTION\s+OUTCOME", table.Out);
        Assert.Matches(@"key\.create\s+ok", table.Out);
        Assert.Matches(@"More records: coffer audit list --before \d+", table.Out);
        var records = all.Json.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal(["ok", "requested"], records.Select(r => r.GetProperty("outcome").GetString()));
        Assert.False(all.Json.TryGetProperty("next", out _));
        Assert.Empty(none.Json.GetProperty("records").EnumerateArray());
    }

    [Fact]
    public async Task Export_streams_JSON_lines_or_CEF_to_stdout_or_a_file()
    {
        await using var node = await DevServer.StartAsync();
        var file = Path.Combine(node.DataDirectory, "export.cef");

        var jsonl = await Cli.RunAsync(node, "audit", "export");
        var cef = await Cli.RunAsync(node, "audit", "export", "--format", "cef", "--after", "2", "--output", file);

        Assert.True(jsonl.ExitCode == 0, jsonl.ToString());
        var lines = jsonl.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 6, jsonl.Out);
        Assert.Equal(1, System.Text.Json.JsonDocument.Parse(lines[0]).RootElement.GetProperty("sequence").GetInt64());
        Assert.True(cef.ExitCode == 0, cef.ToString());
        var written = await File.ReadAllLinesAsync(file);
        Assert.Equal(lines.Length - 2, written.Length);
        Assert.StartsWith("CEF:0|Coffer|Coffer|", written[0], StringComparison.Ordinal);
        Assert.Contains("externalId=3 ", written[0], StringComparison.Ordinal);
        Assert.Contains($"{written.Length} records written", cef.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_prints_Markdown_by_default_and_JSON_on_request()
    {
        await using var node = await DevServer.StartAsync();

        var markdown = await Cli.RunAsync(node, "audit", "report", "--allowed-regions", "eu-west-1");
        var json = await Cli.RunAsync(node, "audit", "report", "--format", "json");

        Assert.True(markdown.ExitCode == 0, markdown.ToString());
        Assert.StartsWith("# Coffer key usage report", markdown.Out, StringComparison.Ordinal);
        Assert.Contains("**Regions:** No use came from outside the allowed regions (eu-west-1).", markdown.Out, StringComparison.Ordinal);
        Assert.Contains("| key.create |", markdown.Out.Replace("key\\.create", "key.create", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal("No XKS key call in this period.", json.Json.GetProperty("regionStatement").GetString());
    }

    [Fact]
    public async Task Shamir_init_and_unseal_are_recorded_share_by_share_without_a_share_and_verify_after_unseal()
    {
        await using var node = await SealedNode.StartAsync();
        var anonymous = Cli.Environment(node.AdminUrl, token: null);
        var init = await Cli.RunAsync(anonymous, "init", "--shares", "3", "--threshold", "2", "--json");
        var shares = init.Json.GetProperty("shares").EnumerateArray().Select(s => s.GetString()!).ToArray();
        var rootToken = init.Json.GetProperty("rootToken").GetString()!;
        var admin = Cli.Environment(node.AdminUrl, rootToken);

        Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", shares[0])).ExitCode);
        Assert.NotEqual(0, (await Cli.RunAsync(anonymous, "unseal", shares[0])).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", shares[1])).ExitCode);

        var verify = await Cli.RunAsync(admin, "audit", "verify");
        Assert.True(verify.ExitCode == 0, verify.ToString());
        var list = await Cli.RunAsync(admin, "audit", "list", "--all", "--json");
        var records = list.Json.GetProperty("records").EnumerateArray().Reverse().ToList();
        var details = records.Select(r => $"{r.GetProperty("action").GetString()} {r.GetProperty("outcome").GetString()} {r.GetProperty("details").GetString()} {(r.TryGetProperty("reason", out var reason) ? reason.GetString() : "")}").ToList();

        Assert.Contains(details, d => d.StartsWith("seal.init ok POST /api/v1/sys/init -> 200, initialised with 3 shares, threshold 2", StringComparison.Ordinal));
        Assert.Contains(details, d => d.StartsWith("seal.unseal ok POST /api/v1/sys/unseal -> 200, sealed, 1 of 2 shares given", StringComparison.Ordinal));
        Assert.Contains(details, d => d.StartsWith("seal.unseal error", StringComparison.Ordinal) && d.Contains("already submitted", StringComparison.Ordinal));
        Assert.Contains(details, d => d.StartsWith("seal.unseal ok unsealed; 0 key stores loaded; its checkpoint adopts records 1 to", StringComparison.Ordinal));
        Assert.Contains(details, d => d.StartsWith("seal.unseal ok POST /api/v1/sys/unseal -> 200, unsealed", StringComparison.Ordinal));
        foreach (var secret in shares.Append(rootToken))
        {
            Assert.DoesNotContain(secret, list.Out, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, node.Logs.All, StringComparison.Ordinal);
        }
    }
}
