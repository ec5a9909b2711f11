using System.Text.Json.Nodes;
using Coffer.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Storage.Repositories;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// Tampering with the real SQLite file of a running node — a changed
/// field, a deleted record, two records swapped, a removed tail, a chain rebuilt without the MAC key —
/// is each found by GET /api/v1/audit/verify at the right record.
/// </summary>
public sealed class AuditTamperTests
{
    [Fact]
    public async Task Untouched_chain_verifies_ok_up_to_the_last_record()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);

        var result = await node.Admin.VerifyAsync();

        var last = db.LastSequence;
        Assert.True((bool)result["ok"]!, result.ToJsonString());
        Assert.Equal(last, (long)result["records"]!);
        Assert.Equal(last, (long)result["lastSequence"]!);
        Assert.Equal(last, (long)result["lastCheckpoint"]!);
        Assert.True(last >= 10, $"expected a history of at least 10 records, got {last}");
    }

    [Fact]
    public async Task Changed_field_is_found_at_its_record()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);

        Assert.Equal(1, db.Edit(6, e => e with { ActorId = "someone-else" }));

        AssertProblem(await node.Admin.VerifyAsync(), "changed", 6);
    }

    [Fact]
    public async Task Stored_bytes_that_are_no_longer_a_record_are_found_at_that_record()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);

        // The last record of the batch that holds record 6 loses its final byte; the batch is stored
        // plain, the form of batches written before packing.
        var (_, cut) = db.ChangeRecordsBlob(6, stored => AuditBatchBlob.Unpack(stored, 1000)![..^1]);

        AssertProblem(await node.Admin.VerifyAsync(), "changed", cut);
    }

    [Fact]
    public async Task Packed_batch_that_no_longer_unpacks_is_found_at_its_first_record_and_listed_as_unreadable()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        var packed = db.Scalar("SELECT COALESCE(MAX(last_seq), 0) FROM audit_batches WHERE substr(records, 1, 1) = x'01'");
        Assert.True(packed > 0, "no batch was stored packed");

        // The compressed stream loses its final byte: it no longer decompresses.
        var (first, last) = db.ChangeRecordsBlob(packed, stored => stored[..^1]);

        AssertProblem(await node.Admin.VerifyAsync(), "changed", first);
        var listed = await node.Admin.AllRecordsAsync();
        Assert.Equal(last - first + 1, listed.Count(r => (string?)r["details"] == $"unreadable: the stored batch of records {first} to {last} does not decompress"));
    }

    [Fact]
    public async Task Deleted_record_is_found_as_missing_at_its_number()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);

        Assert.Equal(1, db.Delete(r => r.Sequence == 7));

        AssertProblem(await node.Admin.VerifyAsync(), "missing", 7);
    }

    [Fact]
    public async Task Two_records_swapped_are_found_as_reordered()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);

        db.Rewrite(db.Records()
            .Select(r => r.Sequence is 5 or 6 ? new AuditRecord(r.Event, 11 - r.Sequence, r.Time, r.Node, r.PrevHash, r.Hash) : r)
            .OrderBy(r => r.Sequence));

        AssertProblem(await node.Admin.VerifyAsync(), "reordered", 5);
    }

    [Fact]
    public async Task Removed_tail_with_its_checkpoints_is_found_against_the_servers_head()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        var last = db.LastSequence;

        db.Delete(r => r.Sequence > last - 3);
        db.Execute($"DELETE FROM audit_checkpoints WHERE seq > {last - 3}");

        AssertProblem(await node.Admin.VerifyAsync(), "truncated", last - 2);
    }

    [Fact]
    public async Task Chain_rebuilt_without_the_MAC_key_is_found_at_the_first_rebuilt_record()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        const long changed = 8;
        Assert.Equal(1, db.Scalar($"SELECT COUNT(*) FROM audit_checkpoints WHERE seq = {changed - 1}"));

        // What an editor of the database can do: change record 8, recompute every hash after it with
        // the published algorithm, and write all of it back. Only the checkpoint key is out of reach.
        Rebuild(db, changed, e => e with { ActorId = "someone-else" });

        AssertProblem(await node.Admin.VerifyAsync(), "rewritten", changed);
    }

    [Fact]
    public async Task Chain_rebuilt_with_checkpoints_forged_under_another_key_is_found_at_the_first_forged_checkpoint()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        const long changed = 8;

        var rebuilt = Rebuild(db, changed, e => e with { Outcome = AuditOutcome.Ok, Details = "nothing to see" });
        var wrongKey = new byte[32];
        foreach (var record in rebuilt)
        {
            var forged = AuditCheckpointMac.Create(wrongKey, record.Sequence, record.Hash, record.Time);
            using var command = db.Connection.CreateCommand();
            command.CommandText = "UPDATE audit_checkpoints SET hash = $hash, mac = $mac, time = $time WHERE seq = $seq";
            command.Parameters.AddWithValue("$time", Coffer.Storage.DbValues.Time(record.Time));
            command.Parameters.AddWithValue("$hash", forged.Hash);
            command.Parameters.AddWithValue("$mac", forged.Mac);
            command.Parameters.AddWithValue("$seq", record.Sequence);
            command.ExecuteNonQuery();
        }

        AssertProblem(await node.Admin.VerifyAsync(), "bad-checkpoint", changed);
    }

    [Fact]
    public async Task Chain_rebuilt_with_its_checkpoints_deleted_is_found_against_the_servers_head()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        const long changed = 8;

        Rebuild(db, changed, e => e with { SourceIp = "203.0.113.9" });
        db.Execute($"DELETE FROM audit_checkpoints WHERE seq >= {changed}");

        AssertProblem(await node.Admin.VerifyAsync(), "rewritten", changed);
    }

    [Fact]
    public async Task Chain_rebuilt_while_running_stops_the_log_instead_of_continuing_the_forgery()
    {
        await using var node = await StartWithHistoryAsync();
        using var db = new AuditDatabase(node);
        Rebuild(db, 8, e => e with { ActorId = "someone-else" });
        var records = db.RecordCount;

        using var refused = await node.Admin.PostJsonAsync("/api/v1/keystores", new { name = "after-forgery", uriPrefix = "/after-forgery" });

        await refused.ProblemAsync(System.Net.HttpStatusCode.ServiceUnavailable);
        Assert.Equal(records, db.RecordCount);
        Assert.Contains("was changed outside Coffer", node.Logs.All, StringComparison.Ordinal);
        AssertProblem(await node.Admin.VerifyAsync(), "rewritten", 8);
    }

    [Fact]
    public async Task Rollback_while_stopped_is_found_only_with_an_anchor_kept_outside()
    {
        var node = await StartWithHistoryAsync();
        var before = await node.Admin.VerifyAsync();
        var anchorSequence = (long)before["lastSequence"]!;
        var anchorHash = (string)before["lastHash"]!;
        Assert.Matches("^[0-9a-f]{64}$", anchorHash);
        var keep = anchorSequence - 4;

        // While the node is stopped, the editor rolls the audit tables back to an earlier, consistent state.
        await using var restarted = await node.RestartAsync(_ =>
        {
            using var db = new AuditDatabase(node);
            db.Delete(r => r.Sequence > keep);
            db.Execute($"DELETE FROM audit_checkpoints WHERE seq > {keep}");
        });
        var fromVerified = await restarted.Admin.VerifyAsync();
        var withoutAnchor = await restarted.Admin.VerifyAsync(full: true);
        var withAnchor = await restarted.Admin.GetJsonAsync($"/api/v1/audit/verify?full=true&anchorSequence={anchorSequence}&anchorHash={anchorHash}");

        // The documented limit: the restarted server's own head came from the rolled-back file.
        Assert.True((bool)withoutAnchor["ok"]!, withoutAnchor.ToJsonString());
        // The restarted node wrote its own records after keep (its unseal, its term as leader), fewer than
        // the four removed: the chain now ends short of the anchor, right after those records.
        var restartedEnd = (long)withoutAnchor["lastSequence"]!;
        Assert.InRange(restartedEnd, keep + 1, anchorSequence - 1);
        AssertProblem(withAnchor, "truncated", restartedEnd + 1);
        // The verified checkpoint the first verify left is such an anchor too, unless the editor
        // rolled the settings back with the audit tables (a restored backup does) — or a full walk that
        // found nothing wrong replaced it, as the one above did.
        AssertProblem(fromVerified, "truncated", restartedEnd + 1);
    }

    private static void AssertProblem(JsonNode result, string kind, long sequence)
    {
        Assert.False((bool)result["ok"]!, result.ToJsonString());
        Assert.Equal(kind, (string?)result["problem"]);
        Assert.Equal(sequence, (long)result["problemSequence"]!);
        Assert.Contains(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), (string)result["message"]!, StringComparison.Ordinal);
    }

    /// <summary>A dev node (whose set-up already wrote records) with a few more changes of every kind.</summary>
    internal static async Task<DevServer> StartWithHistoryAsync()
    {
        var node = await DevServer.StartAsync();
        var store = await node.Admin.CreateKeyStoreAsync();
        var id = (string)store["id"]!;
        await node.Admin.AddCredentialAsync(id);
        var key = await node.Admin.CreateKeyAsync(id, new { name = "tamper-me" });
        using (await node.Admin.PostAsync($"/api/v1/keys/{(string)key["id"]!}/disable", null))
        {
        }

        return node;
    }

    /// <summary>Changes record <paramref name="from"/> and recomputes the chain after it, in the file.</summary>
    private static List<AuditRecord> Rebuild(AuditDatabase db, long from, Func<AuditEvent, AuditEvent> change)
    {
        var stored = db.Records();
        var rebuilt = new List<AuditRecord>();
        var prev = stored[(int)from - 2].Hash;
        foreach (var record in stored.Where(r => r.Sequence >= from))
        {
            var next = AuditRecord.Create(record.Sequence == from ? change(record.Event) : record.Event, record.Sequence, record.Time, record.Node, prev);
            rebuilt.Add(next);
            prev = next.Hash;
        }

        db.Rewrite(stored.Where(r => r.Sequence < from).Concat(rebuilt));
        return rebuilt;
    }
}
