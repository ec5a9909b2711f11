using Coffer.Testing;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Storage;

namespace Coffer.Server.Tests.Audit;

/// <summary>Verify reads the chain page by page from SQLite; problems on and next to page
/// boundaries are found at the same record as anywhere else.</summary>
public sealed class AuditVerifyPagingTests : IAsyncLifetime
{
    private const int PageSize = 5;
    private SqliteAuditLog _audit = null!;
    private CofferStorage _storage = null!;
    private AuditLog _log = null!;

    private string DatabasePath => _audit.DatabasePath;

    public async Task InitializeAsync()
    {
        _audit = await SqliteAuditLog.OpenAsync("node-p");
        (_storage, _log) = (_audit.Storage, _audit.Log);
        for (var i = 1; i <= 23; i++)
        {
            await _log.AppendAsync(new AuditEvent { Action = "xks.encrypt", KeyId = "key_" + i });
        }
    }

    public async Task DisposeAsync() => await _audit.DisposeAsync();

    [Fact]
    public async Task Untouched_chain_over_several_pages_verifies()
    {
        var result = await _log.VerifyAsync(null, PageSize, CancellationToken.None);

        Assert.True(result.Ok, result.Problem?.Message);
        Assert.Equal((23L, 23L, 23L), (result.Records, result.LastSequence, result.LastCheckpoint));
        Assert.Equal(_log.Head.Hash, result.LastHash);
    }

    [Theory]
    [InlineData(5)]   // last of the first page
    [InlineData(6)]   // first of the second page
    [InlineData(17)]
    [InlineData(23)]  // the head
    public async Task Changed_record_is_found_wherever_it_sits_in_the_pages(long seq)
    {
        Database(db => db.Edit(seq, e => e with { KeyId = "other" }));

        Assert.Equal((AuditProblemKind.Changed, seq), Kind(await _log.VerifyAsync(null, PageSize, CancellationToken.None)));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(10)]
    [InlineData(11)]
    public async Task Deleted_record_is_found_wherever_it_sits_in_the_pages(long seq)
    {
        Database(db => db.Delete(r => r.Sequence == seq));

        Assert.Equal((AuditProblemKind.Missing, seq), Kind(await _log.VerifyAsync(null, PageSize, CancellationToken.None)));
    }

    [Fact]
    public async Task Removed_last_page_is_found_against_the_head()
    {
        Database(db => db.Delete(r => r.Sequence > 20));

        // The checkpoints of 21 to 23 are still there: they name records that are gone.
        Assert.Equal((AuditProblemKind.Truncated, 21L), Kind(await _log.VerifyAsync(null, PageSize, CancellationToken.None)));
    }

    private static (AuditProblemKind?, long?) Kind(AuditVerification v) => (v.Problem?.Kind, v.Problem?.Sequence);

    private void Database(Func<AuditDatabase, int> tamper)
    {
        using var db = new AuditDatabase(DatabasePath);
        Assert.True(tamper(db) >= 1);
    }
}
