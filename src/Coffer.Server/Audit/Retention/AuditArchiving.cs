using Coffer.Audit;
using Coffer.Server.Alerts;
using Coffer.Server.Audit.Sinks;
using Coffer.Server.Hosting;
using Coffer.Storage;

namespace Coffer.Server.Audit.Retention;

/// <summary>
/// Decides how far an archive may reach — the records asked for, and only what every sink and the alert
/// dispatcher has already read — and has <see cref="AuditLog.ArchiveAsync"/> make it. The one path of
/// <c>POST /api/v1/audit/archives</c> and of scheduled retention (<see cref="AuditRetention"/>).
/// </summary>
internal sealed class AuditArchiving(AuditLog audit, AuditForwarders sinks, WebhookAlerts alerts, ICofferStorage storage, CofferOptions options)
{
    /// <summary>Where archive files are written and read: <c>Audit.ArchiveDirectory</c>.</summary>
    public string Directory => options.ResolvedAuditArchiveDirectory;

    /// <summary>Archives the oldest records, through <paramref name="throughSequence"/> at most and only those
    /// older than <paramref name="before"/> (each null: no bound).</summary>
    /// <exception cref="AuditArchiveRefusedException">Nothing can be archived, or the range does not verify.</exception>
    /// <exception cref="Seal.SealedException">Sealed.</exception>
    public async Task<AuditArchive> ArchiveAsync(long? throughSequence, DateTimeOffset? before, CancellationToken ct)
    {
        var through = throughSequence ?? long.MaxValue;
        if (before is { } time)
        {
            through = Math.Min(through, await NewestBeforeAsync(time, ct));
        }

        return await audit.ArchiveAsync(through, Directory, await DeliveredThroughAsync(ct), ct);
    }

    /// <summary>Whether the records older than <paramref name="before"/> reach a checkpoint past the last
    /// archive (below the newest record, which always stays), so an archive of them would hold a record.
    /// A cheap look, so that a schedule with nothing to do writes nothing.</summary>
    public async Task<bool> HasDueAsync(DateTimeOffset before, CancellationToken ct)
    {
        var through = Math.Min(await NewestBeforeAsync(before, ct), audit.Head.Sequence - 1);
        var archives = await storage.Audit.ListArchivesAsync(ct);
        var archivedThrough = archives.Count == 0 ? 0 : archives[^1].ThroughSequence;
        return through > archivedThrough && await storage.Audit.GetCheckpointAtOrBeforeAsync(through, ct) is { } cut && cut.Sequence > archivedThrough;
    }

    // The newest record older than `before` (0 for none): QueryAsync lists newest first, To is exclusive.
    private async Task<long> NewestBeforeAsync(DateTimeOffset before, CancellationToken ct)
    {
        var older = await storage.Audit.QueryAsync(new AuditQuery { To = before, Limit = 1 }, ct);
        return older.Records.Count == 0 ? 0 : older.Records[0].Sequence;
    }

    // A sink still sending records, and the alert dispatcher while it has webhooks to feed, must find
    // them in the database (a webhook added later starts after the head).
    private async Task<long> DeliveredThroughAsync(CancellationToken ct)
    {
        var delivered = sinks.Statuses.Select(s => s.Cursor).DefaultIfEmpty(long.MaxValue).Min();
        if ((await storage.Alerts.ListWebhooksAsync(ct)).Count > 0)
        {
            delivered = Math.Min(delivered, alerts.Dispatcher.Cursor);
        }

        return delivered;
    }
}
