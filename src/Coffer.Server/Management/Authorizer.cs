using Coffer.Approvals;
using Coffer.Auth;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// Decides whether a caller may make a call: one of its grants holds the permission the
/// endpoint names, on every key store, or on the one key store the call is about. A call is about a
/// key store when its path names it (<c>/keystores/{id}/…</c>), names one of its keys
/// (<c>/keys/{keyId}/…</c>), lists keys filtered to it, or names an approval request whose held call
/// is about it (<c>/approvals/{approvalId}/…</c>: a team's scoped approvers vote on their own key
/// stores' requests); any other call needs an unscoped grant, so a team's scoped role never reaches
/// beyond its own key stores.
/// </summary>
internal sealed class Authorizer(ICofferStorage storage)
{
    private const string KeyStorePaths = "/api/v1/keystores/{id}";
    private const string KeyList = "/api/v1/keys";

    public Task<bool> AllowsAsync(Caller caller, string? permission, HttpContext http) =>
        AllowsAsync(caller, permission, () => KeyStoreOfAsync(http), http.RequestAborted);

    /// <summary>Whether <paramref name="caller"/> may make a change about <paramref name="keyStoreId"/>
    /// (null: about no one key store), or about the key store of <paramref name="keyId"/>.</summary>
    public Task<bool> AllowsAsync(Caller caller, string? permission, string? keyStoreId, string? keyId, CancellationToken ct) =>
        AllowsAsync(caller, permission, async () => keyStoreId ?? (keyId is null ? null : (await storage.Keys.GetKeyAsync(keyId, ct))?.KeyStoreId), ct);

    /// <summary>Whether <paramref name="caller"/> may make a call about <paramref name="held"/> (a call naming
    /// <c>/approvals/{approvalId}</c>), judged on the key store its held call is about.</summary>
    public Task<bool> AllowsAsync(Caller caller, string? permission, ApprovalRequest held, CancellationToken ct) =>
        AllowsAsync(caller, permission, () => KeyStoreOfAsync(held, ct), ct);

    private async Task<bool> AllowsAsync(Caller caller, string? permission, Func<Task<string?>> keyStoreOf, CancellationToken ct)
    {
        HashSet<string>? scopes = null;
        foreach (var grant in caller.Grants)
        {
            if (!await RoleAllowsAsync(grant.Role, permission, ct))
            {
                continue;
            }

            if (grant.KeyStoreId is null)
            {
                return true;
            }

            (scopes ??= new(StringComparer.Ordinal)).Add(grant.KeyStoreId);
        }

        return scopes is not null && await keyStoreOf() is { } keyStore && scopes.Contains(keyStore);
    }

    /// <summary>Whether a role holds a permission; custom roles are read at each call, so a change
    /// made on any node applies at once.</summary>
    public async ValueTask<bool> RoleAllowsAsync(string role, string? permission, CancellationToken ct)
    {
        if (Roles.IsBuiltIn(role))
        {
            return Roles.Allows(role, permission);
        }

        return permission is not null && await storage.Principals.GetRoleAsync(role, ct) is { } custom && custom.Permissions.Contains(permission);
    }

    /// <summary>The permissions a role holds, read like <see cref="RoleAllowsAsync"/>; none for a role that no longer exists.</summary>
    public async ValueTask<IReadOnlyCollection<string>> PermissionsOfAsync(string role, CancellationToken ct) =>
        Roles.IsBuiltIn(role) ? Roles.PermissionsOf(role) : (await storage.Principals.GetRoleAsync(role, ct))?.Permissions ?? [];

    private async Task<string?> KeyStoreOfAsync(HttpContext http)
    {
        var pattern = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? string.Empty;
        var route = http.Request.RouteValues;
        var ct = http.RequestAborted;
        if (route["approvalId"] is string approvalId)
        {
            return await storage.Approvals.GetRequestAsync(approvalId, ct) is { } held ? await KeyStoreOfAsync(held, ct) : null;
        }

        // A repeated ?keystore= is refused before this runs (QueryParameters); were one to get here, it names no key store.
        return await KeyStoreOfAsync(pattern, name => route[name] as string, ct)
            ?? (pattern.TrimEnd('/') == KeyList && HttpMethods.IsGet(http.Request.Method) && http.Request.Query["keystore"] is [var one] ? one : null);
    }

    private Task<string?> KeyStoreOfAsync(ApprovalRequest held, CancellationToken ct) =>
        KeyStoreOfAsync(held.RoutePattern, name => held.RouteValues.GetValueOrDefault(name), ct);

    /// <summary>The key store a path of <paramref name="pattern"/> with these route values names, itself or by one of its keys.</summary>
    private async Task<string?> KeyStoreOfAsync(string pattern, Func<string, string?> route, CancellationToken ct)
    {
        if (pattern.TrimEnd('/').StartsWith(KeyStorePaths, StringComparison.Ordinal))
        {
            return route("id");
        }

        return route("keyId") is { } keyId ? (await storage.Keys.GetKeyAsync(keyId, ct))?.KeyStoreId : null;
    }
}
