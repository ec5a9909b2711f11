using System.Globalization;
using Coffer.Audit;
using Coffer.Server.Management;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Audit;

/// <summary>
/// Makes the compliance report of a period (docs/audit.md): the period's records from the
/// database and — when the period reaches back past the last archive cut — from the archive files,
/// each used only once it is proven to be the file Coffer wrote. An archive that cannot be read or
/// proven is left out and the report says so; it never drops out silently.
/// </summary>
internal static class AuditReports
{
    private const int PageSize = 1000;

    public static async Task<AuditReport> BuildAsync(
        ICofferStorage storage, AuditLog audit, string archiveDirectory, DateTimeOffset now, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyList<string>? allowedRegions, CancellationToken ct)
    {
        while (true)
        {
            // An archive made meanwhile would have moved records out of the database unseen: read again.
            var archived = await audit.ArchivedAsync(ct);
            var report = await BuildAsync(storage, audit, archived, archiveDirectory, now, from, to, allowedRegions, ct);
            if ((await audit.ArchivedAsync(ct))?.ThroughSequence == archived?.ThroughSequence)
            {
                return report;
            }
        }
    }

    private static async Task<AuditReport> BuildAsync(
        ICofferStorage storage, AuditLog audit, ArchivedRecords? archived, string archiveDirectory, DateTimeOffset now, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyList<string>? allowedRegions, CancellationToken ct)
    {
        AuditReportBuilder builder;
        List<AuditReportArchive> archives;
        var leftOut = new Dictionary<long, string>();
        do
        {
            builder = new AuditReportBuilder(from, to, allowedRegions);
            archives = await ReadArchivesAsync(builder, audit, archived, archiveDirectory, from, leftOut, ct);
        }
        while (archives.Count < ReachedArchives(archived, from).Count); // an archive failed after some of its records were counted: start over without it

        // Records at or below the cut that an interrupted removal left in the database are the archive's.
        var cut = archived?.ThroughSequence ?? 0;
        for (long? before = null; ;)
        {
            var page = await storage.Audit.QueryAsync(new AuditQuery { From = from, To = to, Before = before, Limit = PageSize }, ct);
            foreach (var record in page.Records.Where(r => r.Sequence > cut))
            {
                builder.Add(record);
            }

            if ((before = page.Next) is null)
            {
                break;
            }
        }

        return builder.Build(now, await ChainStatusAsync(audit, ct), new AuditReportArchives(Statement(archived, from, archives), archives),
            await NamesAsync(storage, builder, ct));
    }

    private static IReadOnlyList<AuditArchive> ReachedArchives(ArchivedRecords? archived, DateTimeOffset from) =>
        archived is not null && archived.Reaches(from) ? archived.Archives : [];

    // Reads every archive the period reaches into the builder; returns what became of each. When one
    // fails after records of it were counted, it is added to leftOut and the list returned is short
    // (the caller starts over); one left out before that costs nothing.
    private static async Task<List<AuditReportArchive>> ReadArchivesAsync(
        AuditReportBuilder builder, AuditLog audit, ArchivedRecords? archived, string directory, DateTimeOffset from, Dictionary<long, string> leftOut, CancellationToken ct)
    {
        var result = new List<AuditReportArchive>();
        var previousHash = AuditRecord.GenesisHash.ToArray();
        foreach (var archive in ReachedArchives(archived, from))
        {
            var prev = previousHash;
            previousHash = archive.ThroughHash;
            if (!leftOut.TryGetValue(archive.ThroughSequence, out var why))
            {
                var counted = builder.Records;
                why = await ReadOneAsync(builder, audit, archive, prev, directory, ct);
                if (why is null)
                {
                    result.Add(new AuditReportArchive(archive.FirstSequence, archive.ThroughSequence, archive.FileName, true, Invariant(
                        $"Records {archive.FirstSequence} to {archive.ThroughSequence} are archived in {archive.FileName}; the file verified, and those of them in this period are included.")));
                    continue;
                }

                leftOut.Add(archive.ThroughSequence, why);
                if (builder.Records != counted)
                {
                    return result;
                }
            }

            result.Add(new AuditReportArchive(archive.FirstSequence, archive.ThroughSequence, archive.FileName, false, Invariant(
                $"Records {archive.FirstSequence} to {archive.ThroughSequence} are archived in {archive.FileName} and are NOT included: {why}.")));
        }

        return result;
    }

    // Null when the archive was read and proven; else why it was not used.
    private static async Task<string?> ReadOneAsync(AuditReportBuilder builder, AuditLog audit, AuditArchive archive, byte[] prev, string directory, CancellationToken ct)
    {
        // The row's MAC does not cover the file name, so an editor of the database could point it
        // anywhere (../../); only the name Coffer gives the range is read.
        if (archive.FileName != AuditArchiveFile.Name(archive.FirstSequence, archive.ThroughSequence))
        {
            return Invariant($"its row in the database names another file than the one Coffer wrote ({AuditArchiveFile.Name(archive.FirstSequence, archive.ThroughSequence)}); run 'coffer audit verify --archives'");
        }

        if (!File.Exists(AuditArchiveFile.PathOf(directory, archive)))
        {
            return "the file is not in the archive directory (Audit.ArchiveDirectory); put it back there to include them";
        }

        try
        {
            var problem = await audit.ReadArchiveAsync(archive, prev, directory, records =>
            {
                foreach (var record in records)
                {
                    builder.Add(record);
                }
            }, ct);
            return problem is null ? null : "the file does not verify (" + problem.Message + "); run 'coffer audit verify --archives'";
        }
        catch (SealedException)
        {
            return "Coffer is sealed, so the file cannot be verified; unseal to include them";
        }
    }

    private static string Statement(ArchivedRecords? archived, DateTimeOffset from, IReadOnlyList<AuditReportArchive> archives)
    {
        if (archived is null)
        {
            return "No records are archived: the report covers every record of the period.";
        }

        if (!archived.Reaches(from))
        {
            return Invariant($"Records 1 to {archived.ThroughSequence} are archived ({archived.Newest()}before this period), so none of them belongs to it.");
        }

        return string.Join(" ", archives.Select(a => a.Statement));
    }

    private static async Task<string> ChainStatusAsync(AuditLog audit, CancellationToken ct)
    {
        try
        {
            var v = await audit.VerifyAsync(new AuditVerifyRequest(), null, ct);
            return v.Problem is { } p
                ? Invariant($"PROBLEM: {AuditViews.KindName(p.Kind)} at record {p.Sequence}: {p.Message}")
                : v.FirstSequence > 1
                    ? Invariant($"verified through record {v.LastSequence} (records {v.FirstSequence} to {v.LastSequence} now, those before at an earlier verify or archived), last checkpoint {v.LastCheckpoint}")
                    : Invariant($"verified: {v.Records} records, last seq {v.LastSequence}, last checkpoint {v.LastCheckpoint}");
        }
        catch (SealedException)
        {
            return "not verified: Coffer is sealed";
        }
    }

    // Records name keys and key stores by id; people know them by name. A key keeps its row (a
    // tombstone) after destruction; a deleted key store has no name left.
    private static async Task<AuditReportNames> NamesAsync(ICofferStorage storage, AuditReportBuilder builder, CancellationToken ct)
    {
        var stores = (await storage.KeyStores.ListKeyStoresAsync(ct)).ToDictionary(s => s.Id, s => s.Name, StringComparer.Ordinal);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyId in builder.KeyIds.Select(k => k.KeyId).Distinct(StringComparer.Ordinal))
        {
            if (await storage.Keys.GetKeyAsync(keyId, ct) is { } key)
            {
                keys[keyId] = key.ExternalId;
            }
        }

        return new AuditReportNames(stores, keys);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
