using System.ComponentModel.DataAnnotations;
using System.Text;
using Coffer.Approvals;
using Coffer.Server.Audit;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Server.Management;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Coffer.Server.Approvals;

/// <summary>/api/v1/approvals: approval requests of guarded calls, their votes and outcomes.</summary>
internal static class ApprovalEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/approvals").WithTags("Approvals").RequirePermission(Permissions.ApprovalsRead);
        group.MapGet("", ListAsync).WithSummary("List approval requests, newest first; ?state=pending (or approved, executed, denied, cancelled, expired, void); ?mayVote=true: only the pending ones the caller may vote on now");
        group.MapGet("/{approvalId}", GetAsync).WithSummary("Show an approval request: what, who asked, why, until when, the votes and the outcome");
        group.MapPost("/{approvalId}/approve",
                (string approvalId, ApprovalVoteRequest? body, HttpContext http, ICofferStorage storage, TimeProvider time, CancellationToken ct) =>
                    ApprovalVoting.VoteAsync(approvalId, true, body, http, storage, time, ct))
            .RequirePermission(Permissions.ApprovalsVote).WithAuditAction(AuditActions.ApprovalApprove)
            .WithSummary("Approve (optional comment) as a member of the approver group; the approval that completes the quorum runs the call, as its requester");
        group.MapPost("/{approvalId}/deny",
                (string approvalId, ApprovalVoteRequest? body, HttpContext http, ICofferStorage storage, TimeProvider time, CancellationToken ct) =>
                    ApprovalVoting.VoteAsync(approvalId, false, body, http, storage, time, ct))
            .RequirePermission(Permissions.ApprovalsVote).WithAuditAction(AuditActions.ApprovalDeny)
            .WithSummary("Deny (optional comment) as a member of the approver group: the request ends and nothing runs");
        group.MapPost("/{approvalId}/cancel", CancelAsync).RequirePermission(Permissions.ApprovalsWrite).WithAuditAction(AuditActions.ApprovalCancel)
            .WithSummary("Cancel your own pending request");
        group.MapPost("/{approvalId}/result", TakeResultAsync).RequirePermission(Permissions.ApprovalsWrite).WithAuditAction(AuditActions.ApprovalResult)
            .WithSummary("Fetch, once, the answer of your executed request when it holds a secret (a new credential's secret access key); it is erased then");
    }

    /// <param name="mayVote">Only the pending requests the caller may vote on now (an inbox): the same rules
    /// as a vote (<see cref="ApprovalVoting.MayVoteAsync"/>), so what it lists takes the caller's vote.</param>
    private static async Task<Results<Ok<List<ApprovalView>>, ProblemHttpResult>> ListAsync(
        string? state, bool? mayVote, [Range(1, 1000)] int? limit, HttpContext http, ICofferStorage storage, TimeProvider time, Authorizer authorizer, CancellationToken ct)
    {
        if (state is not null && !ApprovalStates.All.Contains(state, StringComparer.Ordinal))
        {
            return Problems.BadRequest("state is one of " + string.Join(", ", ApprovalStates.All) + ".");
        }

        if (mayVote == true && state is not null && state != ApprovalStates.Pending)
        {
            return Problems.BadRequest($"mayVote=true lists pending requests only; leave state out or give state=pending, not '{state}'.");
        }

        // Expire what is due first, so every filter sees the states of now.
        await ApprovalExpiry.SweepAsync(http.RequestServices.GetRequiredService<AuditLog>(), storage, time.GetUtcNow(), ManagementAudit.SourceIp(http), ct);

        var caller = TokenAuthentication.CallerOf(http)!;
        var views = new List<ApprovalView>();
        // The filter reads every pending request (they are few: each expires), then keeps the limit.
        foreach (var request in await storage.Approvals.ListRequestsAsync(mayVote == true ? ApprovalStates.Pending : state, mayVote == true ? 1000 : limit ?? 100, ct))
        {
            var votes = await storage.Approvals.ListVotesAsync(request.Id, ct);
            if (mayVote != true || await ApprovalVoting.MayVoteAsync(caller, request, votes, authorizer, ct))
            {
                views.Add(ApprovalViews.Of(request, votes));
            }
        }

        return TypedResults.Ok(views.Take(limit ?? 100).ToList());
    }

    private static async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> GetAsync(
        string approvalId, HttpContext http, ICofferStorage storage, TimeProvider time, CancellationToken ct) =>
        await ApprovalVoting.LoadAsync(http, storage, time, approvalId, ct) is { } request
            ? TypedResults.Ok(ApprovalViews.Of(request, await storage.Approvals.ListVotesAsync(approvalId, ct)))
            : ApprovalVoting.NotFound(approvalId);

    private static async Task<Results<Ok<ApprovalView>, ProblemHttpResult>> CancelAsync(
        string approvalId, HttpContext http, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var caller = TokenAuthentication.CallerOf(http)!;
        var request = await ApprovalVoting.LoadAsync(http, storage, time, approvalId, ct);
        if (request is null)
        {
            return ApprovalVoting.NotFound(approvalId);
        }

        if (request.Requester.Id != caller.Id)
        {
            return Problems.Make(403, "Forbidden", $"Only the requester ({request.Requester.Id}) cancels {approvalId}.");
        }

        return await storage.Approvals.MoveAsync(approvalId, ApprovalStates.Pending, ApprovalStates.Cancelled, time.GetUtcNow(), "cancelled by the requester", ct)
            ? TypedResults.Ok(await ApprovalVoting.ViewAsync(storage, approvalId, ct))
            : Problems.Conflict($"Approval request {approvalId} is {request.State}; only a pending request can be cancelled.");
    }

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> TakeResultAsync(
        string approvalId, HttpContext http, SealManager seal, CancellationToken ct)
    {
        var caller = TokenAuthentication.CallerOf(http)!;
        var request = await seal.Storage.Approvals.GetRequestAsync(approvalId, ct);
        if (request is null)
        {
            return ApprovalVoting.NotFound(approvalId);
        }

        if (request.Requester.Id != caller.Id)
        {
            return Problems.Make(403, "Forbidden", $"Only the requester ({request.Requester.Id}) fetches the answer of {approvalId}.");
        }

        if (request.SealedResult is null)
        {
            return NoResult(approvalId);
        }

        // Opened before it is erased, so a sealed node loses nothing; the erase decides who gets it.
        var answer = await seal.OpenSecretAsync(SealPurpose.ApprovalResult, approvalId, request.SealedResult, ct);
        if (await seal.Storage.Approvals.TakeSealedResultAsync(approvalId, ct) is null)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(answer);
            return NoResult(approvalId);
        }

        try
        {
            return TypedResults.Text(Encoding.UTF8.GetString(answer), "application/json", Encoding.UTF8);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(answer);
        }
    }

    private static ProblemHttpResult NoResult(string approvalId) =>
        Problems.Conflict($"Approval request {approvalId} has no answer kept for its requester: it holds no secret, has not run, or was fetched already.");
}
