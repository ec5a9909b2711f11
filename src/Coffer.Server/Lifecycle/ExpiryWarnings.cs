using System.Globalization;
using Coffer.Audit;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Storage;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// Upcoming-expiry alerts: when a version's expiry comes within one of the configured lead
/// times (<c>Alerts.ExpiryWarningDays</c>, default 30, 7 and 1 days), the scheduler writes one
/// <c>key.version.expiry-warning</c> audit record for it, which the webhook dispatcher turns into an
/// alert like any other key event. The audit log is also the memory of what was warned: a warning
/// whose record exists is not repeated, across restarts and nodes alike.
/// </summary>
internal static class ExpiryWarnings
{
    public const string Action = "key.version.expiry-warning";

    /// <summary>Writes the warnings due at <paramref name="now"/>: for each version, only the shortest
    /// lead time it has reached (a node that was down for weeks sends one warning, not three).</summary>
    /// <exception cref="AuditUnavailableException">A warning could not be written; the next tick retries.</exception>
    public static async Task WarnAsync(ICofferStorage storage, AuditLog audit, IReadOnlyCollection<int> leadDays, DateTimeOffset now, CancellationToken ct)
    {
        var leads = leadDays.Where(d => d > 0).ToArray();
        if (leads.Length == 0)
        {
            return;
        }

        foreach (var version in await storage.Rotation.ListDueVersionChangesAsync(now.AddDays(leads.Max()), ct))
        {
            if (version.Lifecycle is not { State: KeyVersionState.Active or KeyVersionState.PreActive, DeactivatesAt: { } expires, DestroysAt: null }
                || expires <= now)
            {
                continue;
            }

            var lead = leads.Where(d => expires - now <= TimeSpan.FromDays(d)).DefaultIfEmpty(0).Min();
            if (lead == 0)
            {
                continue;
            }

            var details = string.Create(CultureInfo.InvariantCulture, $"expires at {expires.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}, within {lead} days");
            var earlier = await storage.Audit.QueryAsync(new AuditQuery { KeyId = version.KeyId, Action = Action, Limit = 1000 }, ct);
            if (earlier.Records.Any(r => r.Event.KeyVersion == version.Version && r.Event.Details == details))
            {
                continue;
            }

            await audit.AppendAsync(new AuditEvent
            {
                Action = Action,
                ActorKind = AuditActorKinds.System,
                KeyStore = (await storage.Keys.GetKeyAsync(version.KeyId, ct))?.KeyStoreId,
                KeyId = version.KeyId,
                KeyVersion = version.Version,
                Details = details,
            }, ct);
        }
    }
}
