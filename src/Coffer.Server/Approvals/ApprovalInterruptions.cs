using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Storage;

namespace Coffer.Server.Approvals;

/// <summary>
/// Ends approved requests whose run will never finish: the node stopped between the quorum and the
/// result, or the run failed part-way (an audit log that could not write, a store that went away).
/// Such a request stays approved and never runs again (at most once); this makes it
/// <see cref="ApprovalStates.Interrupted"/>, with an audit record, so the requester and the approvers
/// learn that whether the call took effect must be checked, instead of seeing a request that looks as
/// if it were still running. The lifecycle scheduler sweeps at start and every minute, on the cluster's
/// leader, which knows only its own runs: a request another node runs carries that node's process
/// (<see cref="ApprovalRequest.RunBy"/>) and is ended only once that process is no longer live.
/// </summary>
internal static class ApprovalInterruptions
{
    /// <summary>Most requests one sweep ends; the next sweep takes the rest.</summary>
    private const int MaxPerSweep = 1000;

    public const string Reason =
        "the quorum was reached but the call did not finish (Coffer stopped, or the run failed part-way): whether it took effect is unknown and it never runs again; check the target, and ask again if needed";

    /// <summary>
    /// Ends every approved request whose run is over: one <paramref name="self"/> (this process) is not
    /// running, or one whose runner is gone from the cluster's registry, stopped, or silent past
    /// <paramref name="liveness"/> (docs/cluster.md). A run under way on another live node is left to it.
    /// Only the scheduler calls this, one sweep at a time, on the leader.
    /// </summary>
    public static async Task SweepAsync(AuditLog audit, ICofferStorage storage, ApprovalRuns runs, ApprovalRunner self, TimeSpan liveness, DateTimeOffset now, CancellationToken ct)
    {
        var approved = await storage.Approvals.ListRequestsAsync(ApprovalStates.Approved, MaxPerSweep, ct);
        if (approved.Count == 0)
        {
            return;
        }

        // Read after the list: a runner live now was live while it ran what was listed.
        var live = (await storage.Cluster.ListNodesAsync(ct)).Where(n => n.IsLive(liveness))
            .Select(n => new ApprovalRunner(n.Report.NodeId, n.Report.InstanceId)).ToHashSet();
        foreach (var listed in approved)
        {
            // A run claims its request before moving it to approved, so a request that was approved when
            // listed and is unclaimed now has no run left here; read again, it is still approved only if that
            // run ended without a result (a finished run leaves it executed or void).
            if (runs.IsRunning(listed.Id) || await storage.Approvals.GetRequestAsync(listed.Id, ct) is not { State: ApprovalStates.Approved } left
                || (left.RunBy is { } runner && runner != self && live.Contains(runner)))
            {
                continue;
            }

            try
            {
                // Recorded first (fail closed): without its record the request stays approved, which runs nothing either.
                await audit.AppendAsync(ApprovalAudit.System(null, AuditActions.ApprovalInterrupt, left, Reason), ct);
            }
            catch (AuditUnavailableException)
            {
                return; // the next sweep tries again
            }

            await storage.Approvals.MoveAsync(left.Id, ApprovalStates.Approved, ApprovalStates.Interrupted, now, Reason, ct);
        }
    }
}
