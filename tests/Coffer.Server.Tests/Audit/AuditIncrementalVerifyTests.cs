using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Storage;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>
/// Verify starts after the verified checkpoint the last successful verify left (a real SQLite file):
/// it reads only what came after, finds tampering there, leaves what came before to --full, and does
/// not trust a checkpoint without this installation's MAC.
/// </summary>
public sealed class AuditIncrementalVerifyTests : IAsyncLifetime
{
    private const int PageSize = 4;
    private SqliteAuditLog _audit = null!;
    private CofferStorage _storage = null!;
    private AuditLog _log = null!;

    private string DatabasePath => _audit.DatabasePath;

    public async Task InitializeAsync()
    {
        _audit = await SqliteAuditLog.OpenAsync("node-i");
        (_storage, _log) = (_audit.Storage, _audit.Log);
        await AppendAsync(20);
    }

    public async Task DisposeAsync() => await _audit.DisposeAsync();

    [Fact]
    public async Task The_second_verify_reads_only_the_records_written_after_the_first()
    {
        var first = await VerifyAsync();
        await AppendAsync(7);

        var second = await VerifyAsync();

        Assert.True(first.Ok, first.Problem?.Message);
        Assert.Equal((1L, 20L, 20L), (first.FirstSequence, first.Records, first.LastSequence));
        Assert.True(second.Ok, second.Problem?.Message);
        Assert.Equal((21L, 7L, 27L, 27L), (second.FirstSequence, second.Records, second.LastSequence, second.LastCheckpoint));
        Assert.Equal(_log.Head.Hash, second.LastHash);
        Assert.Equal(27, (await _storage.Audit.GetVerifiedCheckpointAsync())?.Sequence);
    }

    [Fact]
    public async Task Nothing_new_since_the_last_verify_reads_no_record_and_is_ok()
    {
        await VerifyAsync();

        var again = await VerifyAsync();

        Assert.True(again.Ok, again.Problem?.Message);
        Assert.Equal((0L, 20L, 20L), (again.Records, again.LastSequence, again.LastCheckpoint));
    }

    [Fact]
    public async Task A_record_changed_after_the_checkpoint_is_found()
    {
        await VerifyAsync();
        await AppendAsync(6);
        Database(db => db.Edit(24, e => e with { KeyId = "other" }));

        Assert.Equal((AuditProblemKind.Changed, 24L), Kind(await VerifyAsync()));
        Assert.Equal(20, (await _storage.Audit.GetVerifiedCheckpointAsync())?.Sequence); // a failed verify moves nothing
    }

    [Fact]
    public async Task A_record_changed_before_the_checkpoint_is_found_by_the_full_walk_only()
    {
        await VerifyAsync();
        Database(db => db.Edit(6, e => e with { KeyId = "other" }));

        var incremental = await VerifyAsync();
        var full = await VerifyAsync(full: true);

        Assert.True(incremental.Ok, incremental.Problem?.Message);
        Assert.Equal((AuditProblemKind.Changed, 6L), Kind(full));
    }

    [Fact]
    public async Task A_verified_checkpoint_moved_forward_by_an_editor_is_refused_until_a_full_walk_replaces_it()
    {
        await VerifyAsync();
        await AppendAsync(5);
        Database(db => db.Edit(23, e => e with { KeyId = "other" }));
        var stored = (await _storage.Audit.GetVerifiedCheckpointAsync())!;
        var head = _log.Head;

        // The editor points the checkpoint past the changed record, keeping the old MAC (without the key
        // no other can be made), so that an incremental verify would skip it.
        await _storage.Audit.SaveVerifiedCheckpointAsync(stored with { Sequence = head.Sequence, Hash = head.Hash });
        var forged = await VerifyAsync();
        var full = await VerifyAsync(full: true);

        Assert.Equal((AuditProblemKind.BadCheckpoint, head.Sequence), Kind(forged));
        Assert.Equal((AuditProblemKind.Changed, 23L), Kind(full));
    }

    [Fact]
    public async Task A_checkpoint_the_editor_could_make_is_not_one_and_garbage_is_refused_too()
    {
        await VerifyAsync();
        var head = _log.Head;
        using var other = MasterKey.Generate();
        var wrongKey = other.DeriveMacKey(MacPurpose.AuditCheckpoint);

        await _storage.Audit.SaveVerifiedCheckpointAsync(AuditVerifiedCheckpoint.Create(wrongKey, head.Sequence, head.Hash, DateTimeOffset.UtcNow));
        var otherKey = await VerifyAsync();
        await _storage.System.SetSettingAsync("audit.verified", "20:not-hex");
        var garbage = await VerifyAsync();
        var full = await VerifyAsync(full: true);
        var after = await VerifyAsync();

        Assert.Equal(AuditProblemKind.BadCheckpoint, otherKey.Problem?.Kind);
        Assert.Equal(AuditProblemKind.BadCheckpoint, garbage.Problem?.Kind);
        Assert.True(full.Ok, full.Problem?.Message);
        Assert.True(after.Ok, after.Problem?.Message); // the full walk left a valid checkpoint again
    }

    [Fact]
    public async Task The_chain_rebuilt_under_the_checkpoint_is_found_at_its_record()
    {
        await VerifyAsync();
        Database(db => db.Delete(r => r.Sequence > 17));

        // The checkpoint names record 20, which is gone: the removed tail is reported even with no
        // head of this node's to compare (a restart read it from the same database).
        Assert.Equal((AuditProblemKind.Truncated, 18L), Kind(await VerifyAsync()));
    }

    [Fact]
    public async Task Progress_is_told_page_by_page_before_the_result()
    {
        await VerifyAsync();
        await AppendAsync(10);
        var seen = new List<AuditVerifyProgress>();

        var result = await _log.VerifyAsync(new AuditVerifyRequest { Full = true, PageSize = PageSize }, p =>
        {
            seen.Add(p);
            return ValueTask.CompletedTask;
        });

        Assert.True(result.Ok, result.Problem?.Message);
        Assert.Equal(30 / PageSize + 1, seen.Count);
        Assert.Equal([4L, 8L, 12L], seen.Take(3).Select(p => p.Records));
        Assert.All(seen, p => Assert.Equal(30, p.HeadSequence));
        Assert.Equal(30, seen[^1].LastSequence);
    }

    private Task<AuditVerification> VerifyAsync(bool full = false) =>
        _log.VerifyAsync(new AuditVerifyRequest { Full = full, PageSize = PageSize });

    private async Task AppendAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _log.AppendAsync(new AuditEvent { Action = "xks.encrypt", KeyId = "key_" + i });
        }
    }

    private static (AuditProblemKind?, long?) Kind(AuditVerification v) => (v.Problem?.Kind, v.Problem?.Sequence);

    private void Database(Func<AuditDatabase, int> tamper)
    {
        using var db = new AuditDatabase(DatabasePath);
        Assert.True(tamper(db) >= 1);
    }
}
