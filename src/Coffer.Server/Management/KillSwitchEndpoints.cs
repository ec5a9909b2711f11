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
    private const int MaxReasonLength = 1024;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/kill-switches").WithTags("Kill switch").RequirePermission(Permissions.KillSwitchWrite);
        // Engaging runs even when the audit store is down (as seal does): cutting access must never
        // wait; its records follow when they can. Releasing restores access and so is fail-closed.
        group.MapPost("", EngageAsync).RequiresQuorum(QuorumOperations.KillSwitchEngage).WithAuditAction("killswitch.engage", runsWhenUnaudited: true)
            .WithSummary("Engage a kill switch: scope all, keystore, key, region, account, principal, vpc or vpce, with the value it names and a reason");
        group.MapGet("", ListAsync).RequirePermission(Permissions.KillSwitchRead)
            .WithSummary("The engaged kill switches with who engaged them, when and why; all=true adds released ones");
        group.MapPost("/{id}/release", ReleaseAsync).RequiresQuorum(QuorumOperations.KillSwitchRelease).WithAuditAction("killswitch.release")
            .WithSummary("Release a kill switch: service resumes at once for what only it blocked");
    }

    private static async Task<Results<Created<KillSwitchView>, ProblemHttpResult>> EngageAsync(
        KillSwitchRequest request, KillSwitchBoard board, ICofferStorage storage, HttpContext http, CancellationToken ct)
    {
        if (!KillSwitchScopes.TryParse(request.Scope, out var scope))
        {
            return Problems.BadRequest("scope is one of all, keystore, key, region, account, principal, vpc, vpce.");
        }

        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > MaxReasonLength)
        {
            return Problems.BadRequest($"reason is required (1 to {MaxReasonLength} characters): it tells the next administrator why AWS was cut off.");
        }

        var regionSets = scope == KillSwitchScope.Region ? await board.RegionSetsAsync(ct) : null;
        if (KillSwitchScopes.ValueProblem(scope, request.Value, name => regionSets?.ContainsKey(name) == true) is { } problem)
        {
            return Problems.BadRequest(problem);
        }

        if (scope == KillSwitchScope.KeyStore && await storage.KeyStores.GetKeyStoreAsync(request.Value!, ct) is null)
        {
            return KeyStoreEndpoints.NotFound(request.Value!);
        }

        if (scope == KillSwitchScope.Key && await storage.Keys.GetKeyAsync(request.Value!, ct) is null)
        {
            return KeyEndpoints.NotFound(request.Value!);
        }

        var engaged = await board.EngageAsync(scope, scope == KillSwitchScope.All ? null : request.Value, request.Reason, TokenAuthentication.CallerId(http), ct);
        return TypedResults.Created($"/api/v1/kill-switches/{engaged.Id}", View(engaged));
    }

    private static async Task<Ok<List<KillSwitchView>>> ListAsync(ICofferStorage storage, bool? all, CancellationToken ct) =>
        TypedResults.Ok((await storage.KillSwitches.ListAsync(all == true, ct)).Select(View).ToList());

    private static async Task<Results<Ok<KillSwitchView>, ProblemHttpResult>> ReleaseAsync(string id, KillSwitchBoard board, HttpContext http, CancellationToken ct)
    {
        var released = await board.ReleaseAsync(id, TokenAuthentication.CallerId(http), ct);
        return released is null ? Problems.NotFound($"No kill switch with id '{id}' exists.") : TypedResults.Ok(View(released));
    }

    private static KillSwitchView View(KillSwitch s) =>
        new(s.Id, KillSwitchScopes.ToText(s.Scope), s.Value, s.Reason, s.EngagedBy, s.EngagedAt, s.Engaged, s.ReleasedBy, s.ReleasedAt);
}
