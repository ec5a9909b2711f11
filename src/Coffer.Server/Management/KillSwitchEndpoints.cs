using Coffer.Approvals;
using Coffer.Auth;
using Coffer.KillSwitches;
using Coffer.Server.Approvals;
using Coffer.Server.KillSwitches;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/kill-switches: cut AWS off — from everything, a key store, a key, a region, an account, a
/// principal, a VPC or VPC endpoint — at once, and restore it. Matching XKS calls answer
/// InvalidStateException from the moment engage answers; nothing about the keys changes.
/// </summary>
internal static class KillSwitchEndpoints
{
    public const string EngageAction = "killswitch.engage";

    public const string ReleaseAction = "killswitch.release";

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/kill-switches").WithTags("Kill switch").RequirePermission(Permissions.KillSwitchWrite);
        // Engaging runs even when the audit store is down (as seal does): cutting access must never
        // wait; its records follow when they can. Releasing restores access and so is fail-closed.
        group.MapPost("", EngageAsync).RequiresQuorum(QuorumOperations.KillSwitchEngage).WithAuditAction(EngageAction, runsWhenUnaudited: true)
            .WithSummary("Engage a kill switch: scope all, keystore, key, region, account, principal, vpc or vpce, with the value it names and a reason");
        group.MapGet("", ListAsync).RequirePermission(Permissions.KillSwitchRead)
            .WithSummary("The engaged kill switches with who engaged them, when and why; all=true adds released ones");
        group.MapPost("/{id}/release", ReleaseAsync).RequiresQuorum(QuorumOperations.KillSwitchRelease).WithAuditAction(ReleaseAction)
            .WithSummary("Release a kill switch: service resumes at once for what only it blocked");
    }

    private static async Task<Results<Created<KillSwitchView>, ProblemHttpResult>> EngageAsync(
        KillSwitchRequest request, KillSwitchService killSwitches, HttpContext http, CancellationToken ct)
    {
        var (scope, value, reason) = KillSwitchService.Parse(request.Scope, request.Value, request.Reason);
        return Engaged(await killSwitches.EngageAsync(scope, value, reason, ManagementAudit.Actor(http), ct));
    }

    public static Created<KillSwitchView> Engaged(KillSwitch engaged) => TypedResults.Created($"/api/v1/kill-switches/{engaged.Id}", View(engaged));

    private static async Task<Ok<List<KillSwitchView>>> ListAsync(ICofferStorage storage, bool? all, CancellationToken ct) =>
        TypedResults.Ok((await storage.KillSwitches.ListAsync(all == true, ct)).Select(View).ToList());

    private static async Task<Results<Ok<KillSwitchView>, ProblemHttpResult>> ReleaseAsync(string id, KillSwitchService killSwitches, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok(View(await killSwitches.ReleaseAsync(id, ManagementAudit.Actor(http), ct)));

    public static KillSwitchView View(KillSwitch s) =>
        new(s.Id, KillSwitchScopes.ToText(s.Scope), s.Value, s.Reason, s.EngagedBy, s.EngagedAt, s.Engaged, s.ReleasedBy, s.ReleasedAt);
}
