using System.Text.Json;
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
        group.MapPut("/{name}", PutAsync).RequiresQuorum(QuorumOperations.QuorumChange, Precheck).WithAuditAction(AuditActions.QuorumSet)
            .WithSummary("Create or replace a quorum policy: operations, requiredApprovals (M), approverGroup, lifetimeHours (default 24, at most 720)");
        group.MapDelete("/{name}", DeleteAsync).RequiresQuorum(QuorumOperations.QuorumChange).WithAuditAction(AuditActions.QuorumDelete)
            .WithSummary("Delete a quorum policy: its operations run without approval again");
    }

    private static async Task<Ok<List<QuorumPolicyView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.Approvals.ListPoliciesAsync(ct)).Select(ApprovalViews.Of).ToList());

    private static async Task<Results<Ok<QuorumPolicyView>, ProblemHttpResult>> GetAsync(string name, ICofferStorage storage, CancellationToken ct) =>
        await storage.Approvals.GetPolicyAsync(name, ct) is { } policy ? TypedResults.Ok(ApprovalViews.Of(policy)) : NotFound(name);

    private static async Task<Results<Ok<QuorumPolicyView>, ProblemHttpResult>> PutAsync(
        string name, QuorumPolicyRequest request, HttpContext http, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (!Validation.TryName(name, "name", out var nameError))
        {
            return Problems.BadRequest(nameError);
        }

        if (QuorumPolicy.Problem(request.Operations, request.RequiredApprovals, request.ApproverGroup, request.LifetimeHours) is { } problem)
        {
            return Problems.BadRequest(problem);
        }

        var lifetime = request.LifetimeHours is { } hours ? TimeSpan.FromHours(hours) : QuorumPolicy.DefaultLifetime;
        var policy = new QuorumPolicy(name, request.Operations!, request.RequiredApprovals!.Value, request.ApproverGroup!, lifetime,
            time.GetUtcNow(), TokenAuthentication.CallerId(http));
        await storage.Approvals.PutPolicyAsync(policy, ct);
        return TypedResults.Ok(ApprovalViews.Of(policy));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, ICofferStorage storage, CancellationToken ct) =>
        await storage.Approvals.DeletePolicyAsync(name, ct) ? TypedResults.NoContent() : NotFound(name);

    /// <summary>A held change of a policy is checked like a direct one, so approvers never vote on a call that can only fail.</summary>
    private static string? Precheck(string? body)
    {
        try
        {
            var request = body is null ? null : JsonSerializer.Deserialize(body, ManagementJson.Default.QuorumPolicyRequest);
            return request is null
                ? "The body is a quorum policy: {\"operations\": [...], \"requiredApprovals\": M, \"approverGroup\": \"...\"}."
                : QuorumPolicy.Problem(request.Operations, request.RequiredApprovals, request.ApproverGroup, request.LifetimeHours);
        }
        catch (JsonException e)
        {
            return "The body is not a quorum policy: " + e.Message;
        }
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No quorum policy '{name}'.");
}
