using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Management;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Approvals;

/// <summary>
/// /api/v1/quorum-policies: which operations need M approvals from which group. Changing
/// them is itself the quorum.change operation, so a policy covering quorum.change guards the others.
/// </summary>
internal static class QuorumPolicyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/quorum-policies").WithTags("Approvals").RequirePermission(Permissions.QuorumWrite);
        group.MapGet("", ListAsync).RequirePermission(Permissions.QuorumRead).WithSummary("List quorum policies");
        group.MapGet("/{name}", GetAsync).RequirePermission(Permissions.QuorumRead).WithSummary("Show a quorum policy");
        group.MapPut("/{name}", PutAsync).RequiresQuorum(QuorumOperations.QuorumChange).WithAuditAction(AuditActions.QuorumSet)
            .WithSummary("Create or replace a quorum policy: operations, requiredApprovals (M), approverGroup, lifetimeHours (default 24, at most 720)");
        group.MapDelete("/{name}", DeleteAsync).RequiresQuorum(QuorumOperations.QuorumChange).WithAuditAction(AuditActions.QuorumDelete)
            .WithSummary("Delete a quorum policy: its operations run without approval again");
    }

    private static async Task<Ok<List<QuorumPolicyView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.Approvals.ListPoliciesAsync(ct)).Select(ApprovalViews.Of).ToList());

    private static async Task<Results<Ok<QuorumPolicyView>, ProblemHttpResult>> GetAsync(string name, ICofferStorage storage, CancellationToken ct) =>
        await storage.Approvals.GetPolicyAsync(name, ct) is { } policy ? TypedResults.Ok(ApprovalViews.Of(policy)) : NotFound(name);

    private static async Task<Results<Ok<QuorumPolicyView>, ProblemHttpResult>> PutAsync(
        string name, QuorumPolicyRequest request, HttpContext http, QuorumPolicyService policies, CancellationToken ct) =>
        TypedResults.Ok(ApprovalViews.Of(await policies.PutAsync(name, request, ManagementAudit.Actor(http), ct)));

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, QuorumPolicyService policies, CancellationToken ct)
    {
        await policies.DeleteAsync(name, ct);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound(QuorumPolicyService.NotFound(name).Message);
}
