using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Audit;

internal sealed partial class AuditLog
{
    /// <summary>Records per read of the archive files and the archive's own walk; bounds memory, not the chain's length.</summary>
    internal const int VerifyPageSize = 5000;

    /// <summary>Records per read of the database while verifying: about 15 MB of XKS records, read as
    /// stored and hashed without decoding (AuditChainVerifier), so few round trips and few transactions.</summary>
    internal const int StoredPageSize = 50_000;

    /// <summary>
    /// Walks the stored chain with <see cref="AuditChainVerifier"/> against this node's own head, so a
    /// removed tail is found as well as changed, missing, reordered and rebuilt records. By default from
    /// the verified checkpoint the last successful verify left (docs/audit-verify.md), else from the
    /// last archive's cut (whose MACed row proves where it continues); <see cref="AuditVerifyRequest.Full"/>
    /// from that cut, or — with <see cref="AuditVerifyRequest.ArchiveDirectory"/> — from record 1, through
    /// every archive file and on into the database. A verify that finds no problem leaves a new verified
    /// checkpoint at its last record.
    /// </summary>
    /// <param name="progress">Told after each page read (records checked, last record, the head aimed at).</param>
    /// <exception cref="SealedException">Sealed: without the master key no checkpoint can be checked.</exception>
    public async Task<AuditVerification> VerifyAsync(AuditVerifyRequest request, Func<AuditVerifyProgress, ValueTask>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        // The head first: everything up to it is committed, so the storage must hold at least that.
        var head = Head;
        var key = CopyCheckpointKey() ?? throw new SealedException();
        try
        {
            var result = await WalkAsync(request, head, key, progress, ct);
            if (result.Ok && result.LastSequence >= result.FirstSequence)
            {
                await _repository.SaveVerifiedCheckpointAsync(AuditVerifiedCheckpoint.Create(key, result.LastSequence, result.LastHash, _time.GetUtcNow()), ct);
            }

            return result;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>A full walk (no verified checkpoint), from the last archive's cut.</summary>
    public Task<AuditVerification> VerifyAsync(AuditHead? anchor = null, CancellationToken ct = default) =>
        VerifyAsync(new AuditVerifyRequest { Anchor = anchor, Full = true }, null, ct);

    /// <param name="pageSize">Records per read (tests use small pages to cross page boundaries).</param>
    internal async Task<AuditVerification> VerifyAsync(AuditHead? anchor, int pageSize, CancellationToken ct)
    {
        var key = CopyCheckpointKey() ?? throw new SealedException();
        try
        {
            return await WalkAsync(new AuditVerifyRequest { Anchor = anchor, Full = true, PageSize = pageSize }, Head, key, null, ct);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private async Task<AuditVerification> WalkAsync(AuditVerifyRequest request, AuditHead head, byte[] key, Func<AuditVerifyProgress, ValueTask>? progress, CancellationToken ct)
    {
        var archives = await _repository.ListArchivesAsync(ct);
        if (ArchiveProblem(key, archives) is { } bad)
        {
            return new AuditVerification(0, 0, 0, bad);
        }

        var last = archives.Count == 0 ? null : archives[^1];
        var start = (last?.ThroughSequence ?? 0) + 1;
        var startHash = last?.ThroughHash;
        if (request.ArchiveDirectory is not null)
        {
            (start, startHash) = (1, null);
        }
        else if (!request.Full && await _repository.GetVerifiedCheckpointAsync(ct) is { } verified)
        {
            // A checkpoint at or before the cut vouches for records now in archive files: the walk
            // starts at the cut. One after it must still name a stored record with its hash, else the
            // chain it vouches for was cut or rebuilt under it.
            if (!AuditVerifiedCheckpoint.IsValid(key, verified))
            {
                return new AuditVerification(0, 0, 0, new AuditProblem(AuditProblemKind.BadCheckpoint, verified.Sequence, Invariant(
                    $"the verified checkpoint (records through {verified.Sequence}) has an invalid MAC: it was not written by this installation; run 'coffer audit verify --full'")));
            }

            if (verified.Sequence >= start)
            {
                if (await StoredProblemAsync(verified.Sequence, verified.Hash, "the verified checkpoint", ct) is { } problem)
                {
                    return new AuditVerification(0, 0, 0, problem);
                }

                (start, startHash) = (verified.Sequence + 1, verified.Hash);
            }
        }

        // An anchor in the part this walk skips must still be stored there with its hash.
        if (request.Anchor is { } anchor && anchor.Sequence < start && anchor.Sequence > (last?.ThroughSequence ?? 0)
            && await StoredProblemAsync(anchor.Sequence, anchor.Hash, "the anchor", ct) is { } moved)
        {
            return new AuditVerification(0, 0, 0, moved) { FirstSequence = start };
        }

        using var verifier = new AuditChainVerifier(key, Enabled ? head : null, start, startHash, request.Anchor);
        if (request.ArchiveDirectory is { } directory)
        {
            foreach (var archive in archives)
            {
                if (await WalkArchiveAsync(verifier, archive, directory, VerifyPageSize, ct) is { } missing)
                {
                    return new AuditVerification(0, archive.FirstSequence - 1, 0, missing);
                }

                if (verifier.Problem is not null)
                {
                    return verifier.Complete();
                }
            }
        }

        var target = progress is null ? 0 : (await _repository.GetHeadAsync(ct)).Sequence;
        var from = Math.Max(start, (last?.ThroughSequence ?? 0) + 1);
        while (true)
        {
            AuditStoredPage page;
            try
            {
                page = await _repository.ReadStoredBatchesAsync(from, request.PageSize, ct);
            }
            catch (Exception e) when (e is InvalidCastException or FormatException or ArgumentException or OverflowException)
            {
                // A column of the wrong type (an editor's doing) must be reported, not crash verify.
                return new AuditVerification(0, from - 1, 0,
                    new AuditProblem(AuditProblemKind.Changed, from, $"records from {from} on cannot be read: a stored value has the wrong type ({e.GetType().Name})"));
            }

            var ok = verifier.Add(page.Batches, page.Checkpoints);
            if (progress is not null)
            {
                await progress(new AuditVerifyProgress(verifier.Records, verifier.LastSequence, Math.Max(target, verifier.LastSequence)));
            }

            if (!ok || page.IsLast)
            {
                break;
            }

            from = page.Next;
        }

        return verifier.Complete();
    }

    // Whether record `sequence` is stored with `hash`, as `what` says it is.
    private async Task<AuditProblem?> StoredProblemAsync(long sequence, byte[] hash, string what, CancellationToken ct)
    {
        var page = await _repository.ReadStoredBatchesAsync(sequence, 1, ct);
        var stored = page.Batches.Count == 0 ? [] : page.Batches[0].HashAt(0).ToArray();
        if (stored.Length == 0 && (await _repository.GetHeadAsync(ct)).Sequence is var end && end < sequence)
        {
            return new AuditProblem(AuditProblemKind.Truncated, end + 1,
                Invariant($"records {end + 1} to {sequence} were removed: the chain ends at record {end}, but {what} names record {sequence}"));
        }

        return !stored.AsSpan().SequenceEqual(hash)
                ? new AuditProblem(AuditProblemKind.Rewritten, sequence, Invariant($"record {sequence} is not the record {what} names: the chain was rewritten up to it"))
                : null;
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

/// <summary>What a verify walks.</summary>
internal sealed record AuditVerifyRequest
{
    /// <summary>A head kept outside the database earlier; the chain must still hold it.</summary>
    public AuditHead? Anchor { get; init; }

    /// <summary>Walk from the last archive's cut even when a verified checkpoint is stored.</summary>
    public bool Full { get; init; }

    /// <summary>Where the archive files are, to walk them too, from record 1 (implies <see cref="Full"/>).</summary>
    public string? ArchiveDirectory { get; init; }

    /// <summary>Records per read of the database.</summary>
    public int PageSize { get; init; } = AuditLog.StoredPageSize;
}

/// <param name="Records">Records checked so far.</param>
/// <param name="LastSequence">The last record checked.</param>
/// <param name="HeadSequence">The stored chain's last record when the walk began (or the last checked, if later).</param>
internal readonly record struct AuditVerifyProgress(long Records, long LastSequence, long HeadSequence);
