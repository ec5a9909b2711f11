using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Server.Seal;

namespace Coffer.Server.Audit;

internal sealed partial class AuditLog
{
    /// <summary>Records per read while verifying; bounds memory, not the chain's length.</summary>
    internal const int VerifyPageSize = 5000;

    /// <summary>
    /// Walks the stored chain with <see cref="AuditChainVerifier"/> against this node's own head, so a
    /// removed tail is found as well as changed, missing, reordered and rebuilt records. The chain
    /// starts after the last archive (whose MACed row proves where it continues), or — with
    /// <paramref name="archiveDirectory"/> — at record 1, through every archive file and on into the database.
    /// </summary>
    /// <exception cref="SealedException">Sealed: without the master key no checkpoint can be checked.</exception>
    /// <param name="anchor">A head kept outside the database earlier; the chain must still hold it.</param>
    /// <param name="archiveDirectory">Where the archive files are, to walk them too; null to start at the last cut.</param>
    public Task<AuditVerification> VerifyAsync(AuditHead? anchor = null, string? archiveDirectory = null, CancellationToken ct = default) =>
        VerifyAsync(anchor, archiveDirectory, VerifyPageSize, ct);

    /// <param name="pageSize">Records per read (tests use small pages to cross page boundaries).</param>
    internal Task<AuditVerification> VerifyAsync(AuditHead? anchor, int pageSize, CancellationToken ct) => VerifyAsync(anchor, null, pageSize, ct);

    private async Task<AuditVerification> VerifyAsync(AuditHead? anchor, string? archiveDirectory, int pageSize, CancellationToken ct)
    {
        // The head first: everything up to it is committed, so the storage must hold at least that.
        var head = Head;
        var key = CopyCheckpointKey() ?? throw new SealedException();
        try
        {
            var archives = await _repository.ListArchivesAsync(ct);
            if (ArchiveProblem(key, archives) is { } bad)
            {
                return new AuditVerification(0, 0, 0, bad);
            }

            var last = archives.Count == 0 ? null : archives[^1];
            var cut = archiveDirectory is null ? last : null;
            var verifier = new AuditChainVerifier(key, Enabled ? head : null, firstSequence: (cut?.ThroughSequence ?? 0) + 1, firstPrevHash: cut?.ThroughHash, anchor: anchor);
            if (archiveDirectory is not null)
            {
                foreach (var archive in archives)
                {
                    if (await WalkArchiveAsync(verifier, archive, archiveDirectory, pageSize, ct) is { } missing)
                    {
                        return new AuditVerification(0, archive.FirstSequence - 1, 0, missing);
                    }

                    if (verifier.Problem is not null)
                    {
                        return verifier.Complete();
                    }
                }
            }

            var from = (last?.ThroughSequence ?? 0) + 1;
            while (true)
            {
                Coffer.Storage.AuditChainPage page;
                try
                {
                    page = await _repository.ReadChainAsync(from, pageSize, ct);
                }
                catch (Exception e) when (e is InvalidCastException or FormatException or ArgumentException or OverflowException)
                {
                    // A column of the wrong type (an editor's doing) must be reported, not crash verify.
                    return new AuditVerification(0, from - 1, 0,
                        new AuditProblem(AuditProblemKind.Changed, from, $"records from {from} on cannot be read: a stored value has the wrong type ({e.GetType().Name})"));
                }

                if (!verifier.Add(page.Records, page.Checkpoints) || page.IsLast)
                {
                    break;
                }

                from = page.Records[^1].Sequence + 1;
            }

            return verifier.Complete();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    // Archive rows are the chain's start: each must carry this installation's MAC and follow the one
    // before, or records could be hidden behind a forged cut.
    private static AuditProblem? ArchiveProblem(byte[] key, IReadOnlyList<AuditArchive> archives)
    {
        var expectedFirst = 1L;
        foreach (var archive in archives)
        {
            if (!AuditArchiveMac.IsValid(key, archive))
            {
                return new AuditProblem(AuditProblemKind.BadCheckpoint, archive.FirstSequence,
                    Invariant($"the archive of records {archive.FirstSequence} to {archive.ThroughSequence} ({archive.FileName}) has an invalid MAC"));
            }

            if (archive.FirstSequence != expectedFirst)
            {
                return new AuditProblem(AuditProblemKind.Missing, expectedFirst,
                    Invariant($"records {expectedFirst} to {archive.FirstSequence - 1} are in no archive and not in the database"));
            }

            expectedFirst = archive.ThroughSequence + 1;
        }

        return null;
    }

    // Feeds one archive file to the verifier, ending on the checkpoint the database keeps at its cut
    // (and hands each page the verifier accepted to `accepted`); returns a problem of the file itself
    // (missing, unreadable, not the file that was written).
    private async Task<AuditProblem?> WalkArchiveAsync(
        AuditChainVerifier verifier, AuditArchive archive, string directory, int pageSize, CancellationToken ct, Action<IReadOnlyList<AuditRecord>>? accepted = null)
    {
        var path = AuditArchiveFile.PathOf(directory, archive);
        if (!File.Exists(path))
        {
            return new AuditProblem(AuditProblemKind.Missing, archive.FirstSequence,
                Invariant($"records {archive.FirstSequence} to {archive.ThroughSequence} are archived in {archive.FileName}, which is not in {directory}"));
        }

        var cut = await _repository.GetCheckpointAtOrBeforeAsync(archive.ThroughSequence, ct);
        AuditCheckpoint[] checkpoints = cut is not null && cut.Sequence == archive.ThroughSequence ? [cut] : [];
        byte[]? sha;
        try
        {
            (_, sha) = await AuditArchiveFile.ReadAsync(path, pageSize, records =>
            {
                var ok = verifier.Add(records, checkpoints);
                if (ok)
                {
                    accepted?.Invoke(records);
                }

                return ok;
            }, ct);
        }
        catch (FormatException e)
        {
            return new AuditProblem(AuditProblemKind.Changed, archive.FirstSequence, e.Message);
        }

        if (sha is not null && !sha.AsSpan().SequenceEqual(archive.FileSha256))
        {
            return new AuditProblem(AuditProblemKind.Changed, archive.FirstSequence,
                Invariant($"{archive.FileName} is not the file Coffer wrote: its SHA-256 differs"));
        }

        return null;
    }
}
