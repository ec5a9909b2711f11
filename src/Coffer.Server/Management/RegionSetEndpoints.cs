using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
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
        string name, RegionSetRequest request, RegionSetService regionSets, CancellationToken ct) =>
        Stored(await regionSets.PutAsync(name, request.Regions, ct));

    public static Ok<RegionSetView> Stored(StoredRegionSet set) => TypedResults.Ok(new RegionSetView(set.Name, set.Regions, false, set.UpdatedAt));

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, RegionSetService regionSets, CancellationToken ct)
    {
        await regionSets.DeleteAsync(name, ct);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound(RegionSetService.NotFound(name).Message);
}
