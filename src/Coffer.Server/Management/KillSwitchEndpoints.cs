using Coffer.Approvals;
using Coffer.Auth;
using Coffer.KillSwitches;
using Coffer.Policies;
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
/// principal, a VPC or VPC endpoint — at once, and restore it (issue 6). Matching XKS calls answer
/// InvalidStateException from the moment engage answers; nothing about the keys changes.
/// </summary>
internal static class KillSwitchEndpoints
{
    private const int MaxReasonLength = 1024;
    private const int MaxValueLength = 2048;

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

        if (ValueProblem(scope, request.Value) is { } problem)
        {
            return Problems.BadRequest(problem);
        }

        if (scope == KillSwitchScope.Region && !RegionSets.IsRegionName(request.Value) && !(await board.RegionSetsAsync(ct)).ContainsKey(request.Value!))
        {
            return Problems.BadRequest($"value '{request.Value}' is neither an AWS region (eu-west-1) nor a region set (eea, eu-adequacy, or one of yours).");
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

    // The value must look like what its scope names, so a typo is refused instead of blocking nothing.
    private static string? ValueProblem(KillSwitchScope scope, string? value)
    {
        if (scope == KillSwitchScope.All)
        {
            return value is null ? null : "scope all takes no value.";
        }

        if (string.IsNullOrEmpty(value) || value.Length > MaxValueLength)
        {
            return $"scope {KillSwitchScopes.ToText(scope)} needs a value (up to {MaxValueLength} characters).";
        }

        return scope switch
        {
            KillSwitchScope.Region when !value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') =>
                "value is an AWS region such as eu-west-1, or a region set such as eea.",
            KillSwitchScope.Account when value.Length != 12 || !value.All(char.IsAsciiDigit) => "value is a 12-digit AWS account id.",
            KillSwitchScope.Principal when !value.StartsWith("arn:", StringComparison.Ordinal) => "value is an AWS principal ARN (arn:aws:iam::...).",
            KillSwitchScope.Vpc when !value.StartsWith("vpc-", StringComparison.Ordinal) => "value is a VPC id (vpc-...).",
            KillSwitchScope.Vpce when !value.StartsWith("vpce-", StringComparison.Ordinal) => "value is a VPC endpoint id (vpce-...).",
            _ => null,
        };
    }

    private static KillSwitchView View(KillSwitch s) =>
        new(s.Id, KillSwitchScopes.ToText(s.Scope), s.Value, s.Reason, s.EngagedBy, s.EngagedAt, s.Engaged, s.ReleasedBy, s.ReleasedAt);
}
