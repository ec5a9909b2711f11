using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Audit;
using Coffer.Server.Cluster;
using Coffer.Server.Management;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;

namespace Coffer.Server.Approvals;

/// <summary>
/// Votes on approval requests. A voter holds approvals.vote (checked before this runs) and
/// is a member of the request's approver group; nobody votes on their own request, nobody votes
/// twice, a denial ends the request, and an expired request takes no votes. The vote that brings the
/// M-th approval runs the call (<see cref="ApprovalExecutor"/>).
/// </summary>
internal static class ApprovalVoting
{
    public const int MaxCommentLength = 512;

    public static async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> VoteAsync(
        string approvalId, bool approves, ApprovalVoteRequest? body, HttpContext http, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var caller = TokenAuthentication.CallerOf(http)!;
        if (body?.Comment is { Length: > MaxCommentLength })
        {
            return Problems.BadRequest($"comment is at most {MaxCommentLength} characters.");
        }

        var request = await LoadAsync(http, storage, time, approvalId, ct);
        if (request is null)
        {
            return NotFound(approvalId);
        }

        if (request.State != ApprovalStates.Pending || request.IsExpiredAt(time.GetUtcNow()))
        {
            return Problems.Conflict($"Approval request {approvalId} is {(request.State == ApprovalStates.Pending ? ApprovalStates.Expired : request.State)}; it takes no more votes.");
        }

        if (caller.Id == request.Requester.Id)
        {
            return Problems.Make(403, "Forbidden", "Nobody approves or denies their own request; another member of the approver group must.");
        }

        if (!caller.IsMemberOf(request.ApproverGroup))
        {
            return Problems.Make(403, "Forbidden", $"Only members of the approver group '{request.ApproverGroup}' vote on {approvalId}.");
        }

        var approvals = await storage.Approvals.AddVoteAsync(
            new ApprovalVote(approvalId, caller.Id, caller.Kind, caller.Name, approves, body?.Comment, time.GetUtcNow()), ct);
        if (approvals is null)
        {
            return Problems.Conflict($"Approval request {approvalId} was decided meanwhile; it takes no more votes.");
        }

        if (!approves)
        {
            await storage.Approvals.MoveAsync(approvalId, ApprovalStates.Pending, ApprovalStates.Denied, time.GetUtcNow(), $"denied by {caller.Kind} {caller.Id}", ct);
        }
        else if (approvals >= request.RequiredApprovals)
        {
            // Claimed before the move, so the scheduler never takes this run for one a stopped node left behind.
            using var run = http.RequestServices.GetRequiredService<ApprovalRuns>().Claim(approvalId);
            // The runner is recorded with the move: the leader's sweep leaves the run alone while this process is live.
            if (await storage.Approvals.ApproveAsync(approvalId, http.RequestServices.GetRequiredService<ClusterMembership>().Runner, ct))
            {
                // Only the vote whose conditional update won gets here: the call runs once, and to its end
                // even if this voter hangs up (a run cut short is left interrupted, its effect unknown).
                await http.RequestServices.GetRequiredService<ApprovalExecutor>().RunAsync(request, ManagementAudit.Actor(http), CancellationToken.None);
            }
        }

        return TypedResults.Ok(await ViewAsync(storage, approvalId, ct));
    }

    /// <summary>Whether the caller may vote on this pending request now: approvals.vote on its key store (as
    /// the vote's own permission check judges it), not its requester, a member of its approver group, and
    /// no vote yet. The inbox's filter; <see cref="VoteAsync"/> refuses each case with its own message.</summary>
    public static async Task<bool> MayVoteAsync(Caller caller, ApprovalRequest request, IReadOnlyList<ApprovalVote> votes, Authorizer authorizer, CancellationToken ct) =>
        request.State == ApprovalStates.Pending && caller.Id != request.Requester.Id && caller.IsMemberOf(request.ApproverGroup)
        && !votes.Any(v => v.VoterId == caller.Id) && await authorizer.AllowsAsync(caller, Permissions.ApprovalsVote, request, ct);

    /// <summary>The request, expired first if its time is up (an audit record with a system actor, written
    /// before the change; if it cannot be written the request stays pending but takes no votes).</summary>
    public static async Task<ApprovalRequest?> LoadAsync(HttpContext http, ICofferStorage storage, TimeProvider time, string approvalId, CancellationToken ct)
    {
        var request = await storage.Approvals.GetRequestAsync(approvalId, ct);
        return request is not null && request.IsExpiredAt(time.GetUtcNow())
            ? await ApprovalExpiry.ExpireAsync(http.RequestServices.GetRequiredService<AuditLog>(), storage, request, ManagementAudit.SourceIp(http), ct)
            : request;
    }

    public static async Task<ApprovalView> ViewAsync(ICofferStorage storage, string approvalId, CancellationToken ct)
    {
        var request = await storage.Approvals.GetRequestAsync(approvalId, ct) ?? throw new ConflictException($"approval request {approvalId} disappeared");
        return ApprovalViews.Of(request, await storage.Approvals.ListVotesAsync(approvalId, ct));
    }

    public static ProblemHttpResult NotFound(string approvalId) => Problems.NotFound($"No approval request '{approvalId}'.");
}
