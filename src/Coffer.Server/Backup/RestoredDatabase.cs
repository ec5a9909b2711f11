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
