using Coffer.Auth;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/roles: the built-in roles and custom ones built from fine-grained permissions.
/// Built-in roles are fixed; a custom role may not take a built-in name, and cannot be deleted while
/// a user, app or valid token holds it or the configuration maps an identity-provider group to it.
/// </summary>
internal static class RoleEndpoints
{
    private const int MaxDescriptionLength = 256;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/roles").WithTags("Roles").RequirePermission(Permissions.IdentitiesRead);
        group.MapGet("", ListAsync).WithSummary("List built-in and custom roles with their permissions");
        group.MapGet("/{name}", GetAsync).WithSummary("Show a role");
        group.MapPut("/{name}", PutAsync).RequirePermission(Permissions.IdentitiesWrite).WithAuditAction("role.put")
            .WithSummary("Create or replace a custom role from permissions; takes effect on the next call of everyone holding it");
        group.MapDelete("/{name}", DeleteAsync).RequirePermission(Permissions.IdentitiesWrite).WithAuditAction("role.delete")
            .WithSummary("Delete a custom role no one holds");
    }

    private static async Task<Ok<List<RoleView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok(Roles.All.Select(BuiltIn).Concat((await storage.Principals.ListRolesAsync(ct)).Select(View)).ToList());

    private static async Task<Results<Ok<RoleView>, ProblemHttpResult>> GetAsync(string name, ICofferStorage storage, CancellationToken ct) =>
        Roles.IsBuiltIn(name) ? TypedResults.Ok(BuiltIn(name))
        : await storage.Principals.GetRoleAsync(name, ct) is { } role ? TypedResults.Ok(View(role))
        : Problems.NotFound($"No role named '{name}' exists.");

    private static async Task<Results<Ok<RoleView>, ProblemHttpResult>> PutAsync(
        string name, CustomRoleRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (Roles.IsBuiltIn(name))
        {
            return Problems.Conflict($"'{name}' is a built-in role; built-in roles cannot be changed. Choose another name for a custom role.");
        }

        if (!IdentityNames.IsValid(name))
        {
            return Problems.BadRequest($"A role name is {IdentityNames.Rule}.");
        }

        if (request.Description is { Length: > MaxDescriptionLength })
        {
            return Problems.BadRequest($"description is at most {MaxDescriptionLength} characters.");
        }

        var permissions = request.Permissions ?? [];
        if (permissions.Count == 0 || permissions.Any(p => !Permissions.IsKnown(p)))
        {
            return Problems.BadRequest("permissions is a non-empty list of: " + string.Join(", ", Permissions.All) + ".");
        }

        var role = new CustomRole(name, request.Description ?? string.Empty, [.. permissions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], time.GetUtcNow());
        await storage.Principals.PutRoleAsync(role, ct);
        return TypedResults.Ok(View(role));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string name, ICofferStorage storage, Hosting.CofferOptions options, TimeProvider time, CancellationToken ct)
    {
        if (Roles.IsBuiltIn(name))
        {
            return Problems.Conflict($"'{name}' is a built-in role; built-in roles cannot be deleted.");
        }

        // The configuration's group mappings hold it too: deleting it would silently take it from every
        // identity-provider login of those groups (and a role of the same name made later would get them back).
        var mapped = options.Oidc?.GroupRoles.Where(m => m.Grant.Role == name).Select(m => m.Group).ToList() ?? [];
        if (mapped.Count > 0)
        {
            return Problems.Conflict($"Role '{name}' is mapped to identity-provider group(s) {string.Join(", ", mapped)} in Oidc.GroupRoles; remove the mapping from the configuration first.");
        }

        var deletion = await storage.Principals.DeleteRoleAsync(name, time.GetUtcNow(), ct);
        return deletion.Deleted ? TypedResults.NoContent()
            : !deletion.Found ? Problems.NotFound($"No custom role named '{name}' exists.")
            : Problems.Conflict($"Role '{name}' is still held by {string.Join(", ", deletion.Holders.Take(10))}{(deletion.Holders.Count > 10 ? $" and {deletion.Holders.Count - 10} more" : "")}; take it from them first.");
    }

    private static RoleView BuiltIn(string name) =>
        new(name, true, string.Empty, [.. Roles.PermissionsOf(name).Order(StringComparer.Ordinal)], null);

    private static RoleView View(CustomRole role) => new(role.Name, false, role.Description, role.Permissions, role.UpdatedAt);
}
