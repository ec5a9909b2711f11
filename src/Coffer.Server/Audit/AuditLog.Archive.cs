using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Server.Hosting;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Audit;

/// <summary>Why an archive was not made (nothing changed): the caller's answer is a 409.</summary>
internal sealed class AuditArchiveRefusedException(string message) : Exception(message);

internal sealed partial class AuditLog
{
    /// <summary>Records removed per transaction after an archive (see IAuditRepository.PruneArchivedAsync).</summary>
    internal const int PruneBatch = 5000;

    private readonly SemaphoreSlim _archiveGate = new(1, 1);

    /// <summary>
    /// Retention: moves the oldest records — from the last archive on, through the latest
    /// checkpoint at or before <paramref name="through"/> — into a new archive file in
    /// <paramref name="directory"/>, then removes them from the database. The chain continues across the
    /// cut: the next record's PrevHash is the archive's last hash, and <see cref="VerifyAsync(AuditVerifyRequest, Func{AuditVerifyProgress, ValueTask}?, CancellationToken)"/>
    /// walks archives and database as one chain.
    /// </summary>
    /// <remarks>
    /// Only a range that verifies is archived, and only up to a checkpoint (so the file ends on a record a
    /// MAC proves), below the head (the writer continues from a stored record) and below
    /// <paramref name="deliveredThrough"/> (no sink loses records it has not sent yet). The file is
    /// complete and fsync'd before its MACed row is stored; records go only after that, in short
    /// transactions, so XKS calls never wait on an archive. An interrupted removal finishes on the next
    /// archive; verify ignores leftovers below a cut.
    /// </remarks>
    /// <exception cref="SealedException">Sealed: the archive's MAC needs the audit key.</exception>
    /// <exception cref="AuditArchiveRefusedException">Nothing can be archived, or the range does not verify.</exception>
    public async Task<AuditArchive> ArchiveAsync(long through, string directory, long deliveredThrough, CancellationToken ct = default)
    {
        await _archiveGate.WaitAsync(ct);
        var key = CopyCheckpointKey();
        try
        {
            if (key is null)
            {
                throw new SealedException();
            }

            var archives = await _repository.ListArchivesAsync(ct);
            var last = archives.Count == 0 ? null : archives[^1];
            if (last is not null)
            {
                await PruneAsync(last.ThroughSequence, ct); // an earlier removal may have been interrupted
            }

            var first = (last?.ThroughSequence ?? 0) + 1;
            var limit = Math.Min(Math.Min(through, Head.Sequence - 1), deliveredThrough);
            var cut = limit < first ? null : await _repository.GetCheckpointAtOrBeforeAsync(limit, ct);
            if (cut is null || cut.Sequence < first)
            {
                throw new AuditArchiveRefusedException(Invariant(
                    $"nothing to archive: records from {first} up to {limit} hold no checkpoint to end an archive on (the newest record always stays; a sink must have delivered what is archived)"));
            }

            OwnerOnlyFiles.CreateDirectory(directory);
            var fileName = AuditArchiveFile.Name(first, cut.Sequence);
            var firstPrevHash = last?.ThroughHash ?? AuditRecord.GenesisHash.ToArray();
            using var verifier = new AuditChainVerifier(key, firstSequence: first, firstPrevHash: firstPrevHash);
            var sha = await AuditArchiveFile.WriteAsync(Path.Combine(directory, fileName), first, cut.Sequence, firstPrevHash,
                VerifiedRangeAsync(verifier, first, cut.Sequence, ct), ct);

            var archive = AuditArchiveMac.Create(key, first, cut.Sequence, cut.Hash, fileName, sha, _time.GetUtcNow());
            await _repository.AddArchiveAsync(archive, ct);
            await PruneAsync(cut.Sequence, ct);
            return archive;
        }
        finally
        {
            Zero(key);
            _archiveGate.Release();
        }
    }

    /// <summary>Finishes a removal that an earlier archive left halfway (a crash or a failed transaction
    /// after its file and row were stored): the records at or below the last archive's end go.</summary>
    public async Task FinishRemovalAsync(CancellationToken ct = default)
    {
        await _archiveGate.WaitAsync(ct);
        try
        {
            if ((await _repository.ListArchivesAsync(ct)) is [.., var last])
            {
                await PruneAsync(last.ThroughSequence, ct);
            }
        }
        finally
        {
            _archiveGate.Release();
        }
    }

    // The records first..through from the database, each checked by the verifier before it is written;
    // a problem stops the archive (its partial file is removed).
    private async IAsyncEnumerable<AuditRecord> VerifiedRangeAsync(AuditChainVerifier verifier, long first, long through, [EnumeratorCancellation] CancellationToken ct)
    {
        for (var from = first; from <= through;)
        {
            var page = await _repository.ReadChainAsync(from, (int)Math.Min(VerifyPageSize, through - from + 1), ct);
            var records = page.Records.Where(r => r.Sequence <= through).ToList();
            if (records.Count == 0 || !verifier.Add(records, page.Checkpoints.Where(c => c.Sequence <= through)))
            {
                var problem = verifier.Problem?.Message ?? Invariant($"the chain ends before record {through}");
                throw new AuditArchiveRefusedException("the range does not verify, so it was not archived: " + problem);
            }

            foreach (var record in records)
            {
                yield return record;
            }

            from = records[^1].Sequence + 1;
        }

        var result = verifier.Complete();
        if (!result.Ok || result.LastSequence != through)
        {
            throw new AuditArchiveRefusedException("the range does not verify, so it was not archived: " + (result.Problem?.Message ?? "it ends early"));
        }
    }

    private async Task PruneAsync(long through, CancellationToken ct)
    {
        while (await _repository.PruneArchivedAsync(through, PruneBatch, ct) > 0)
        {
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
