using System.Globalization;
using Coffer.Audit;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coffer.Server.Backup;

/// <summary>
/// The last steps of every restore, before any node starts on the restored database (docs/backup.md):
/// its first new audit record says that it was restored and from what, then the destruction ledger is
/// applied so that what was destroyed after the backup is destroyed again, each destruction with its
/// record, and the erased material is cleared from the files. Needs no master key: destroying erases
/// sealed bytes (the HSM's objects the live node destroyed are gone already), and records written while
/// sealed are chained now and covered by the first checkpoint after unseal (<see cref="AuditLog"/>).
/// </summary>
internal static class RestoredDatabase
{
    public static async Task<RestoreSummary> FinishAsync(
        ICofferStorage storage, string nodeId, string restored, DestructionLedger? ledger, TimeProvider time, CancellationToken ct)
    {
        await CheckAuditLinksAsync(storage.Audit, ct);
        await using var audit = await AuditLog.StartAsync(storage.Audit, nodeId, time, NullLogger<AuditLog>.Instance, ct: ct);
        await audit.AppendAsync(Actor.System.Event(BackupService.RestoreAction) with
        {
            Details = restored + (ledger is null
                ? "; no destruction ledger was applied (--allow-destroyed-keys-to-return): keys destroyed after the backup was taken may have come back"
                : "; destruction ledger " + string.Join(", ", ledger.Files) + string.Create(CultureInfo.InvariantCulture, $" ({ledger.Entries.Count} destructions) applied next")),
        }, ct);

        var summary = new RestoreSummary(0, 0, 0);
        foreach (var entry in ledger?.Entries ?? [])
        {
            summary = summary.Add(await ApplyAsync(storage, audit, entry, time, ct));
        }

        if (summary.Versions > 0)
        {
            // No node runs on this database yet, so nothing holds back the truncating checkpoint.
            await storage.Keys.CompleteErasureAsync(ct);
        }

        return summary;
    }

    /// <summary>
    /// The audit chain as far as it can be checked without the master key: from the last archive cut
    /// to the head, every record links to the one before it and its hash matches its contents. Its
    /// checkpoints are MACs under a key derived from the master key, so <c>coffer audit verify</c> on
    /// the unsealed node proves the rest. A broken chain is refused before anything is written.
    /// </summary>
    private static async Task CheckAuditLinksAsync(IAuditRepository audit, CancellationToken ct)
    {
        var archives = await audit.ListArchivesAsync(ct);
        var cut = archives.Count == 0 ? null : archives[^1];
        var previous = cut is null ? AuditHead.Empty : new AuditHead(cut.ThroughSequence, cut.ThroughHash);
        while (true)
        {
            var page = await audit.ReadChainAsync(previous.Sequence + 1, 1000, ct);
            foreach (var record in page.Records)
            {
                if (!record.Follows(previous) || !record.ComputeHash().AsSpan().SequenceEqual(record.Hash))
                {
                    throw new BackupFileException(string.Create(CultureInfo.InvariantCulture,
                        $"the restored database's audit log is broken at record {record.Sequence} (after record {previous.Sequence}): records were removed or changed."));
                }

                previous = new AuditHead(record.Sequence, record.Hash);
            }

            if (page.IsLast || page.Records.Count == 0)
            {
                return;
            }
        }
    }

    private static async Task<RestoreSummary> ApplyAsync(ICofferStorage storage, AuditLog audit, LedgerEntry entry, TimeProvider time, CancellationToken ct)
    {
        var key = await storage.Keys.GetKeyAsync(entry.KeyId, ct);
        if (key is null)
        {
            // Made after the backup: the restored database never had it.
            return new RestoreSummary(0, 0, 1);
        }

        var versions = 0;
        foreach (var version in await storage.Keys.ListVersionsAsync(key.Id, ct))
        {
            if (version.State == KeyVersionState.Destroyed || (entry.Version is { } only && version.Version != only))
            {
                continue;
            }

            var now = time.GetUtcNow();
            await storage.Keys.DestroyVersionAsync(key.Id, version.Version, version.Lifecycle, now, KeyVersion.SystemActor, ct);
            await audit.AppendAsync(Record(AuditActions.KeyVersionDestroy, key, entry) with { KeyVersion = version.Version }, ct);
            versions++;
        }

        if (entry.Version is null && !key.IsDestroyed)
        {
            await storage.Keys.MarkKeyDestroyedAsync(key.Id, time.GetUtcNow(), ct);
            await audit.AppendAsync(Record(AuditActions.KeyDestroy, key, entry), ct);
            return new RestoreSummary(versions, 1, 0);
        }

        return new RestoreSummary(versions, 0, 0);
    }

    private static AuditEvent Record(string action, ManagedKey key, LedgerEntry entry) => Actor.System.Event(action) with
    {
        KeyStore = key.KeyStoreId,
        KeyId = key.Id,
        Details = string.Create(CultureInfo.InvariantCulture,
            $"destroyed again at restore: the destruction ledger records its destruction at {entry.DestroyedAt:O} (record {entry.Sequence}), after the backup was taken"),
    };
}

/// <summary>What applying the ledger changed: versions and whole keys destroyed again, and entries about
/// keys the backup did not hold.</summary>
internal sealed record RestoreSummary(int Versions, int Keys, int NotInBackup)
{
    public RestoreSummary Add(RestoreSummary other) => new(Versions + other.Versions, Keys + other.Keys, NotInBackup + other.NotInBackup);
}
