using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Storage;

namespace Coffer.Server.Approvals;

/// <summary>
/// Ends approval requests nobody approved in time. An expired request never runs whenever it is
/// looked at; this also records the expiry when it happens — the lifecycle scheduler sweeps every
/// minute, and reads and listings expire what is due first — so the audit log and alerts show an
/// unanswered request on time, not when someone next opens it.
/// </summary>
internal static class ApprovalExpiry
{
    /// <summary>Most requests one sweep expires; the next sweep takes the rest.</summary>
    private const int MaxPerSweep = 1000;

    // The scheduler's sweep and a read can find the same request due at once; one expiry at a time
    // (re-reading the state inside) keeps it to one record. Expiry is rare, so one gate suffices.
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Expires every pending request past its expiry at <paramref name="now"/>.</summary>
    public static async Task SweepAsync(AuditLog audit, ICofferStorage storage, DateTimeOffset now, string? sourceIp, CancellationToken ct)
    {
        foreach (var due in (await storage.Approvals.ListRequestsAsync(ApprovalStates.Pending, MaxPerSweep, ct)).Where(r => r.IsExpiredAt(now)))
        {
            await ExpireAsync(audit, storage, due, sourceIp, ct);
        }
    }

    /// <summary>Records the expiry (fail closed: without its record the request stays pending, and
    /// still cannot run), then moves it to expired; returns it as stored.</summary>
    public static async Task<ApprovalRequest> ExpireAsync(AuditLog audit, ICofferStorage storage, ApprovalRequest request, string? sourceIp, CancellationToken ct)
    {
        await Gate.WaitAsync(ct);
        try
        {
            var current = await storage.Approvals.GetRequestAsync(request.Id, ct);
            if (current is not { State: ApprovalStates.Pending })
            {
                return current ?? request; // ended meanwhile
            }

            var reason = $"not approved by {current.ExpiresAt:u}";
            try
            {
                await audit.AppendAsync(ApprovalAudit.System(sourceIp, AuditActions.ApprovalExpire, current, reason), ct);
            }
            catch (AuditUnavailableException)
            {
                return current;
            }

            await storage.Approvals.MoveAsync(current.Id, ApprovalStates.Pending, ApprovalStates.Expired, current.ExpiresAt, reason, ct);
            return await storage.Approvals.GetRequestAsync(current.Id, ct) ?? current;
        }
        finally
        {
            Gate.Release();
        }
    }
}
