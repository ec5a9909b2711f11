using System.Text.Json;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Changes;
using Coffer.KillSwitches;
using Coffer.Policies;
using Coffer.Server.Approvals;
using Coffer.Server.Policies;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>/api/v1/region-sets: the named region sets rules use; eea and eu-adequacy are built in and read-only.</summary>
internal static class RegionSetEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/region-sets").WithTags("Access rules");
        group.MapGet("", List).RequirePermission(Permissions.PoliciesRead).WithSummary("List the built-in and user-defined region sets");
        group.MapGet("/{name}", Get).RequirePermission(Permissions.PoliciesRead).WithSummary("Show a region set");
        group.MapPut("/{name}", PutAsync).RequiresQuorum(QuorumOperations.PolicyChange).WithAuditAction(AuditActions.RegionSetPut).RequirePermission(Permissions.PoliciesWrite)
            .WithSummary("Create or replace a user-defined region set; rules that use it change at once");
        group.MapDelete("/{name}", DeleteAsync).RequiresQuorum(QuorumOperations.PolicyChange).WithAuditAction(AuditActions.RegionSetDelete).RequirePermission(Permissions.PoliciesWrite)
            .WithSummary("Delete a user-defined region set that no rules or engaged kill switches use");
    }

    private static Ok<List<RegionSetView>> List(AccessRules rules) => TypedResults.Ok(
        RegionSets.BuiltIn.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new RegionSetView(s.Key, s.Value, true, null))
            .Concat(rules.UserSets.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new RegionSetView(s.Key, s.Value, false, null)))
            .ToList());

    private static Results<Ok<RegionSetView>, ProblemHttpResult> Get(string name, AccessRules rules) =>
        RegionSets.BuiltIn.TryGetValue(name, out var builtIn) ? TypedResults.Ok(new RegionSetView(name, builtIn, true, null))
        : rules.UserSets.TryGetValue(name, out var user) ? TypedResults.Ok(new RegionSetView(name, user, false, null))
        : NotFound(name);

    private static async Task<Results<Ok<RegionSetView>, ProblemHttpResult>> PutAsync(
        string name, RegionSetRequest request, IChangeFeed changes, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (RegionSets.BuiltIn.ContainsKey(name))
        {
            return BuiltIn(name);
        }

        if (!RegionSets.IsValidSetName(name, out var error))
        {
            return Problems.BadRequest("name: " + error);
        }

        if (request.Regions is not { Count: > 0 and <= RegionSets.MaxRegions })
        {
            return Problems.BadRequest($"regions lists 1 to {RegionSets.MaxRegions} AWS region names (eu-west-1).");
        }

        for (var i = 0; i < request.Regions.Count; i++)
        {
            if (!RegionSets.IsRegionName(request.Regions[i] ?? ""))
            {
                return Problems.BadRequest($"regions[{i}] is not an AWS region name (eu-west-1); sets hold regions, not other sets or patterns.");
            }
        }

        var set = new StoredRegionSet(name, [.. request.Regions.Distinct(StringComparer.Ordinal)], time.GetUtcNow());
        await storage.Policies.PutRegionSetAsync(set, ct);
        await changes.PublishAsync(ChangeTopic.RegionSets);
        return TypedResults.Ok(new RegionSetView(set.Name, set.Regions, false, set.UpdatedAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, IChangeFeed changes, ICofferStorage storage, CancellationToken ct)
    {
        if (RegionSets.BuiltIn.ContainsKey(name))
        {
            return BuiltIn(name);
        }

        // Rules that name a missing set would fail closed on the next reload: refuse instead.
        var users = (await storage.Policies.ListCurrentAsync(ct)).Where(p => Uses(p.Document!, name)).Select(p => $"{p.Scope} {p.ScopeId}").ToList();
        if (users.Count > 0)
        {
            return Problems.Conflict($"Region set '{name}' is used by the access rules of {string.Join(", ", users)}; change those rules first.");
        }

        // An engaged region switch naming a missing set would block nothing after the next restart.
        var switches = (await storage.KillSwitches.ListAsync(includeReleased: false, ct)).Where(s => s.Scope == KillSwitchScope.Region && s.Value == name).Select(s => s.Id).ToList();
        if (switches.Count > 0)
        {
            return Problems.Conflict($"Region set '{name}' is named by the engaged kill switch(es) {string.Join(", ", switches)}; release them first.");
        }

        if (!await storage.Policies.DeleteRegionSetAsync(name, ct))
        {
            return NotFound(name);
        }

        await changes.PublishAsync(ChangeTopic.RegionSets);
        return TypedResults.NoContent();
    }

    private static bool Uses(string document, string name)
    {
        _ = AccessPolicyDocuments.TryRead(document, out var parsed);
        return parsed?.Rules?.Any(r => r is not null && (r.KmsKeyRegion?.Contains(name) == true || r.SigningRegion?.Contains(name) == true)) == true;
    }

    private static ProblemHttpResult BuiltIn(string name) =>
        Problems.Conflict($"'{name}' is a built-in region set and read-only; define your own under another name.");

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"No region set named '{name}' exists.");
}
