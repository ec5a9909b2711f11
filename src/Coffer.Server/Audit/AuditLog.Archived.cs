using System.Globalization;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Server.Seal;

namespace Coffer.Server.Audit;

/// <summary>
/// The archived part of the chain as readers of a period see it: records 1 to
/// <see cref="ThroughSequence"/>, in <see cref="Archives"/> (oldest first), the newest of them written at
/// <see cref="NewestTime"/> (the time of the checkpoint kept at the cut; null if it is gone).
/// </summary>
internal sealed record ArchivedRecords(IReadOnlyList<AuditArchive> Archives, DateTimeOffset? NewestTime)
{
    public long ThroughSequence => Archives[^1].ThroughSequence;

    /// <summary>Whether a period starting at <paramref name="from"/> (null: the beginning) may hold archived
    /// records. Records are numbered and stamped in order by one writer, so none after the cut is older
    /// than its last record; without that record's time, assume it may.</summary>
    public bool Reaches(DateTimeOffset? from) => from is null || NewestTime is null || from <= NewestTime;

    /// <summary>"the newest of them written at 2026-02-01 10:00:00 UTC, " when that time is known.</summary>
    public string Newest() => NewestTime is { } t
        ? "the newest of them written at " + t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC, "
        : "";
}

internal sealed partial class AuditLog
{
    /// <summary>The archives made so far, or null when nothing was ever archived.</summary>
    public async Task<ArchivedRecords?> ArchivedAsync(CancellationToken ct = default)
    {
        var archives = await _repository.ListArchivesAsync(ct);
        if (archives.Count == 0)
        {
            return null;
        }

        var cut = await _repository.GetCheckpointAtOrBeforeAsync(archives[^1].ThroughSequence, ct);
        return new ArchivedRecords(archives, cut?.Sequence == archives[^1].ThroughSequence ? cut.Time : null);
    }

    /// <summary>
    /// Reads one archive file for a reader such as the compliance report, handing it the records page by
    /// page as they pass the checks. Returns null when the whole file was proven to be the one Coffer
    /// wrote — its row's MAC holds, its records chain from <paramref name="firstPrevHash"/> to the row's
    /// last hash, and its SHA-256 is the row's — else the problem; pages handed over before a problem
    /// was found must then be discarded by the caller.
    /// </summary>
    /// <param name="firstPrevHash">The previous archive's last hash (from its MACed row), or the genesis hash.</param>
    /// <exception cref="SealedException">Sealed: the MAC needs the audit key.</exception>
    public async Task<AuditProblem?> ReadArchiveAsync(
        AuditArchive archive, byte[] firstPrevHash, string directory, Action<IReadOnlyList<AuditRecord>> page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var key = CopyCheckpointKey() ?? throw new SealedException();
        try
        {
            if (!AuditArchiveMac.IsValid(key, archive))
            {
                return new AuditProblem(AuditProblemKind.BadCheckpoint, archive.FirstSequence, Invariant($"the archive row of {archive.FileName} has an invalid MAC"));
            }

            // The MACed row anchors the file's end, so the chain must reach exactly its last hash.
            var end = new AuditHead(archive.ThroughSequence, archive.ThroughHash);
            using var verifier = new AuditChainVerifier(key, firstSequence: archive.FirstSequence, firstPrevHash: firstPrevHash, anchor: end);
            if (await WalkArchiveAsync(verifier, archive, directory, VerifyPageSize, ct, page) is { } problem)
            {
                return problem;
            }

            // Only the last archive keeps a checkpoint at its cut; an older one is proven by its row's
            // MAC over its last hash, which the anchor checked, so "unproven" does not apply.
            var result = verifier.Complete();
            return result.Problem is { Kind: not AuditProblemKind.Unproven } chainProblem ? chainProblem
                : result.LastSequence != archive.ThroughSequence
                    ? new AuditProblem(AuditProblemKind.Missing, result.LastSequence + 1, Invariant($"{archive.FileName} ends at record {result.LastSequence}, not {archive.ThroughSequence}"))
                    : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
