using Coffer.Audit;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Audit;

/// <summary>A page of <see cref="AuditLog.ListAsync"/>, newest first.</summary>
/// <param name="Next">Pass as <see cref="AuditQuery.Before"/> for the next (older) page; null on the last.</param>
/// <param name="NotListed">Archived records the page would have reached but could not prove, and why.</param>
internal sealed record AuditListing(IReadOnlyList<AuditRecord> Records, long? Next, string? NotListed);

internal sealed partial class AuditLog
{
    /// <summary>
    /// The records that match <paramref name="query"/>, newest first, wherever they are: the live log in
    /// the database, then — once a page runs past its oldest record — the archive files in
    /// <paramref name="archiveDirectory"/>, newest first, each used only once the whole file is proven
    /// (<see cref="ReadArchiveAsync"/>). One cursor pages across both: record numbers.
    /// </summary>
    /// <remarks>
    /// A page that reaches into an archive reads and proves that whole file, so paging through archived
    /// records costs one file read per page; a time range stops at the first archive older than it.
    /// An archive that is missing, does not verify or cannot be proven while sealed is skipped and named in
    /// <see cref="AuditListing.NotListed"/>.
    /// </remarks>
    public async Task<AuditListing> ListAsync(AuditQuery query, string archiveDirectory, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var archived = await ArchivedAsync(ct);
        var cut = archived?.ThroughSequence ?? 0;
        var records = new List<AuditRecord>(query.Limit);
        if (query.Before is not { } before || before > cut + 1)
        {
            var page = await _repository.QueryAsync(query, ct);

            // Records at or below the cut that an interrupted removal left behind are the archive's.
            records.AddRange(page.Records.Where(r => r.Sequence > cut));
            var liveGoesOn = page.Next is not null && records.Count == page.Records.Count;
            if (liveGoesOn || archived is null || !archived.Reaches(query.From))
            {
                return new AuditListing(records, liveGoesOn ? page.Next : null, null);
            }
        }

        if (archived is null)
        {
            return new AuditListing(records, null, null);
        }

        var wanted = query.Limit - records.Count;
        if (wanted == 0)
        {
            return new AuditListing(records, records[^1].Sequence, null);
        }

        var (found, notListed) = await ListArchivedAsync(query with { Before = Math.Min(query.Before ?? long.MaxValue, cut + 1) }, archived, wanted + 1, archiveDirectory, ct);
        records.AddRange(found.Take(wanted));
        return new AuditListing(records, found.Count > wanted && records.Count > 0 ? records[^1].Sequence : null, notListed.Count == 0 ? null : string.Join(" ", notListed));
    }

    // Up to `most` matches from the archives, newest first, and a sentence for each archive left out.
    private async Task<(List<AuditRecord> Found, List<string> NotListed)> ListArchivedAsync(
        AuditQuery query, ArchivedRecords archived, int most, string archiveDirectory, CancellationToken ct)
    {
        var found = new List<AuditRecord>(most);
        var notListed = new List<string>();
        for (var i = archived.Archives.Count - 1; i >= 0 && found.Count < most; i--)
        {
            var archive = archived.Archives[i];
            if (archive.FirstSequence >= query.Before)
            {
                continue;
            }

            // The file is read oldest first: keep its newest matches only.
            var newest = new Queue<AuditRecord>();
            var keep = most - found.Count;
            DateTimeOffset? oldest = null;
            var previousHash = i == 0 ? AuditRecord.GenesisHash.ToArray() : archived.Archives[i - 1].ThroughHash;
            AuditProblem? problem;
            try
            {
                problem = await ReadArchiveAsync(archive, previousHash, archiveDirectory, page =>
                {
                    oldest ??= page[0].Time;
                    foreach (var record in page.Where(query.Matches))
                    {
                        newest.Enqueue(record);
                        if (newest.Count > keep)
                        {
                            newest.Dequeue();
                        }
                    }
                }, ct);
            }
            catch (SealedException)
            {
                notListed.Add(Invariant($"Records 1 to {archive.ThroughSequence} are archived and are not listed: Coffer is sealed, and only the audit key proves an archive."));
                break;
            }

            if (problem is not null)
            {
                notListed.Add(Invariant($"Records {archive.FirstSequence} to {archive.ThroughSequence} are archived in {archive.FileName} and are not listed: {problem.Message}; run 'coffer audit verify --archives'."));
                continue;
            }

            found.AddRange(newest.Reverse());
            if (query.From is { } from && oldest < from)
            {
                break; // records are numbered and stamped in order: every older archive is older still
            }
        }

        return (found, notListed);
    }
}
