using System.Globalization;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Changes;
using Coffer.Policies;
using Coffer.Server.Approvals;
using Coffer.Server.Policies;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keystores/{id}/policy and /api/v1/keys/{keyId}/policy: the versioned access rules of a key
/// store and of a key (docs/design.md, "Policies and control"). A document is checked whole before
/// anything is stored; each PUT adds a version, DELETE adds a version that clears the rules.
/// </summary>
internal static partial class PolicyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPut("/keystores/{id}/policy", (string id, HttpContext http, AccessRuleService rules, CancellationToken ct) =>
                SetAsync(PolicyScopes.KeyStore, id, http, rules, ct))
            .WithTags("Access rules").RequiresQuorum(QuorumOperations.PolicyChange).WithAuditAction(AuditActions.PolicySet).RequirePermission(Permissions.PoliciesWrite)
            .WithSummary("Set a key store's access rules (a rule document; each PUT makes a new version)");
        api.MapGet("/keystores/{id}/policy", (string id, int? version, ICofferStorage storage, CancellationToken ct) => GetAsync(PolicyScopes.KeyStore, id, version, storage, ct))
            .WithTags("Access rules").RequirePermission(Permissions.PoliciesRead).WithSummary("Show a key store's access rules, or ?version=N");
        api.MapGet("/keystores/{id}/policy/versions", (string id, ICofferStorage storage, CancellationToken ct) => VersionsAsync(PolicyScopes.KeyStore, id, storage, ct))
            .WithTags("Access rules").RequirePermission(Permissions.PoliciesRead).WithSummary("List every version of a key store's access rules");
        api.MapDelete("/keystores/{id}/policy", (string id, HttpContext http, AccessRuleService rules, CancellationToken ct) =>
                ClearAsync(PolicyScopes.KeyStore, id, http, rules, ct))
            .WithTags("Access rules").RequiresQuorum(QuorumOperations.PolicyChange).WithAuditAction(AuditActions.PolicyClear).RequirePermission(Permissions.PoliciesWrite)
            .WithSummary("Clear a key store's access rules (kept as a version)");

        api.MapPut("/keys/{keyId}/policy", (string keyId, HttpContext http, AccessRuleService rules, CancellationToken ct) =>
                SetAsync(PolicyScopes.Key, keyId, http, rules, ct))
            .WithTags("Access rules").RequiresQuorum(QuorumOperations.PolicyChange).WithAuditAction(AuditActions.PolicySet).RequirePermission(Permissions.PoliciesWrite)
            .WithSummary("Set a key's access rules, on top of its key store's");
        api.MapGet("/keys/{keyId}/policy", (string keyId, int? version, ICofferStorage storage, CancellationToken ct) => GetAsync(PolicyScopes.Key, keyId, version, storage, ct))
            .WithTags("Access rules").RequirePermission(Permissions.PoliciesRead).WithSummary("Show a key's access rules, or ?version=N");
        api.MapGet("/keys/{keyId}/policy/versions", (string keyId, ICofferStorage storage, CancellationToken ct) => VersionsAsync(PolicyScopes.Key, keyId, storage, ct))
            .WithTags("Access rules").RequirePermission(Permissions.PoliciesRead).WithSummary("List every version of a key's access rules");
        api.MapDelete("/keys/{keyId}/policy", (string keyId, HttpContext http, AccessRuleService rules, CancellationToken ct) =>
                ClearAsync(PolicyScopes.Key, keyId, http, rules, ct))
            .WithTags("Access rules").RequiresQuorum(QuorumOperations.PolicyChange).WithAuditAction(AuditActions.PolicyClear).RequirePermission(Permissions.PoliciesWrite)
            .WithSummary("Clear a key's access rules (kept as a version)");

        api.MapPost("/policy/simulate", PolicySimulation.SimulateAsync)
            .WithTags("Access rules").WithAuditAction(AuditActions.PolicySimulate).RequirePermission(Permissions.PoliciesRead)
            .WithSummary("Decide sample requests, or replay recent XKS calls, under the stored or a candidate rule document");
    }

    private static async Task<Results<Ok<PolicyView>, ProblemHttpResult>> SetAsync(
        string scope, string scopeId, HttpContext http, AccessRuleService rules, CancellationToken ct)
    {
        var (document, error) = await AccessPolicyDocuments.ReadAsync(http.Request.Body, ct);
        return error is not null
            ? Problems.BadRequest(AccessRuleService.Refused(error).Message)
            : TypedResults.Ok(View(await rules.SetAsync(scope, scopeId, document!, ManagementAudit.Actor(http), ct)));
    }

    private static async Task<Results<Ok<PolicyView>, ProblemHttpResult>> GetAsync(string scope, string scopeId, int? version, ICofferStorage storage, CancellationToken ct)
    {
        if (version is < 1)
        {
            return Problems.BadRequest("version is a version number from 1 (see .../policy/versions).");
        }

        var stored = await storage.Policies.GetAsync(scope, scopeId, version, ct);
        if (stored is null)
        {
            return await MissingAsync(scope, scopeId, storage, ct)
                ?? Problems.NotFound(version is null
                    ? $"No access rules were ever set on {AccessRuleService.Describe(scope, scopeId)}: every XKS call is allowed (set rules with PUT)."
                    : $"{AccessRuleService.Describe(scope, scopeId)} has no access rules version {version.Value.ToString(CultureInfo.InvariantCulture)}.");
        }

        return TypedResults.Ok(View(stored));
    }

    private static async Task<Results<Ok<PolicyVersionsView>, ProblemHttpResult>> VersionsAsync(string scope, string scopeId, ICofferStorage storage, CancellationToken ct)
    {
        var versions = await storage.Policies.ListVersionsAsync(scope, scopeId, ct);
        if (versions.Count == 0 && await MissingAsync(scope, scopeId, storage, ct) is { } missing)
        {
            return missing;
        }

        return TypedResults.Ok(new PolicyVersionsView([.. versions.Select(View)]));
    }

    private static async Task<Results<Ok<PolicyView>, ProblemHttpResult>> ClearAsync(
        string scope, string scopeId, HttpContext http, AccessRuleService rules, CancellationToken ct) =>
        TypedResults.Ok(View(await rules.ClearAsync(scope, scopeId, ManagementAudit.Actor(http), ct)));

    /// <summary>404 when the key store or key does not exist, else null.</summary>
    internal static async Task<ProblemHttpResult?> MissingAsync(string scope, string scopeId, ICofferStorage storage, CancellationToken ct) => scope == PolicyScopes.Key
        ? await storage.Keys.GetKeyAsync(scopeId, ct) is null ? KeyEndpoints.NotFound(scopeId) : null
        : await storage.KeyStores.GetKeyStoreAsync(scopeId, ct) is null ? KeyStoreEndpoints.NotFound(scopeId) : null;

    /// <summary>400 naming the field at fault; nothing was stored.</summary>
    internal static ProblemHttpResult Refused(AccessPolicyError error) =>
        Problems.BadRequest($"The rule document was refused and nothing changed: {error.Field}: {error.Message}");

    public static PolicyView View(StoredPolicy stored)
    {
        AccessPolicyDocument? document = null;
        if (stored.Document is not null)
        {
            // Stored documents were checked when set; one that no longer reads is shown as empty.
            _ = AccessPolicyDocuments.TryRead(stored.Document, out document);
        }

        return new PolicyView(stored.Scope, stored.ScopeId, stored.Version, stored.Document is null, stored.CreatedAt, stored.CreatedBy, document);
    }
}
