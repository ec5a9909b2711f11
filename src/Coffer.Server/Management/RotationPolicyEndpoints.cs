using System.Globalization;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.Server.Keys;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keys/{keyId}/rotation-policy and /api/v1/keystores/{id}/rotation-policy: when the
/// rotation scheduler (src/Coffer.Server/Lifecycle) rotates a key. A key's own policy replaces its key
/// store's; a key's GET shows the policy in force and when it rotates next.
/// </summary>
internal static class RotationPolicyEndpoints
{
    private const string RequestHelp =
        "Give intervalDays (1 or more), or timeOfDay (\"HH:mm\", UTC) with an optional dayOfWeek (\"Monday\"), and optionally rotateBeforeExpiryDays.";

    public static void Map(RouteGroupBuilder api)
    {
        var key = api.MapGroup("/keys/{keyId}/rotation-policy").WithTags("Keys").RequirePermission(Permissions.KeysWrite);
        key.MapGet("", GetForKeyAsync).RequirePermission(Permissions.KeysRead).WithSummary("Show the rotation policy in force for a key (its own, else its key store's) and its next rotation");
        key.MapPut("", SetForKeyAsync).WithAuditAction("key.rotation-policy.set")
            .WithSummary("Set a key's own rotation policy: every intervalDays days, or at timeOfDay (UTC) daily or on dayOfWeek; optionally rotateBeforeExpiryDays before its current version expires");
        key.MapDelete("", ClearForKeyAsync).WithAuditAction("key.rotation-policy.clear")
            .WithSummary("Remove a key's own rotation policy; its key store's applies again");

        var store = api.MapGroup("/keystores/{id}/rotation-policy").WithTags("Key stores").RequirePermission(Permissions.KeyStoresWrite);
        store.MapGet("", GetForKeyStoreAsync).RequirePermission(Permissions.KeyStoresRead).WithSummary("Show a key store's rotation policy");
        store.MapPut("", SetForKeyStoreAsync).WithAuditAction("keystore.rotation-policy.set")
            .WithSummary("Set the rotation policy of every key in a key store that has none of its own");
        store.MapDelete("", ClearForKeyStoreAsync).WithAuditAction("keystore.rotation-policy.clear")
            .WithSummary("Remove a key store's rotation policy");
    }

    private static async Task<Results<Ok<RotationPolicyView>, ProblemHttpResult>> GetForKeyAsync(string keyId, ICofferStorage storage, CancellationToken ct)
    {
        var candidate = await storage.Rotation.ListCandidatesAsync(keyId, ct) is [var only] ? only : null;
        if (candidate is null)
        {
            return KeyEndpoints.NotFound(keyId);
        }

        return candidate.Policy is null
            ? Problems.NotFound($"Key '{keyId}' has no rotation policy, neither its own nor its key store's.")
            : TypedResults.Ok(KeyView(candidate));
    }

    private static async Task<Results<Ok<RotationPolicyView>, ProblemHttpResult>> SetForKeyAsync(
        string keyId, RotationPolicyRequest request, HttpContext http, KeyService keys, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (!TryParse(request, time.GetUtcNow(), TokenAuthentication.CallerId(http), out var policy, out var problem))
        {
            return Problems.BadRequest(problem);
        }

        await keys.SetRotationPolicyAsync(RotationPolicyScope.Key, keyId, policy, ct);
        return await GetForKeyAsync(keyId, storage, ct);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ClearForKeyAsync(string keyId, KeyService keys, CancellationToken ct)
    {
        await keys.ClearRotationPolicyAsync(RotationPolicyScope.Key, keyId, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<RotationPolicyView>, ProblemHttpResult>> GetForKeyStoreAsync(string id, ICofferStorage storage, CancellationToken ct)
    {
        if (await storage.KeyStores.GetKeyStoreAsync(id, ct) is null)
        {
            return KeyStoreEndpoints.NotFound(id);
        }

        var policy = await storage.Rotation.GetPolicyAsync(RotationPolicyScope.KeyStore, id, ct);
        return policy is null
            ? Problems.NotFound($"Key store '{id}' has no rotation policy.")
            : TypedResults.Ok(View("keystore", id, policy));
    }

    private static async Task<Results<Ok<RotationPolicyView>, ProblemHttpResult>> SetForKeyStoreAsync(
        string id, RotationPolicyRequest request, HttpContext http, KeyService keys, TimeProvider time, CancellationToken ct)
    {
        if (!TryParse(request, time.GetUtcNow(), TokenAuthentication.CallerId(http), out var policy, out var problem))
        {
            return Problems.BadRequest(problem);
        }

        await keys.SetRotationPolicyAsync(RotationPolicyScope.KeyStore, id, policy, ct);
        return TypedResults.Ok(View("keystore", id, policy));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ClearForKeyStoreAsync(string id, KeyService keys, CancellationToken ct)
    {
        await keys.ClearRotationPolicyAsync(RotationPolicyScope.KeyStore, id, ct);
        return TypedResults.NoContent();
    }

    private static bool TryParse(RotationPolicyRequest request, DateTimeOffset now, string actor, out RotationPolicy policy, out string problem)
    {
        policy = null!;
        TimeOnly? timeOfDay = null;
        if (request.TimeOfDay is not null)
        {
            if (!TimeOnly.TryParseExact(request.TimeOfDay, "HH':'mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                problem = $"timeOfDay is \"HH:mm\" in UTC, e.g. \"02:30\"; '{request.TimeOfDay}' is not. " + RequestHelp;
                return false;
            }

            timeOfDay = parsed;
        }

        DayOfWeek? dayOfWeek = null;
        if (request.DayOfWeek is not null)
        {
            var names = Enum.GetNames<DayOfWeek>();
            var name = names.FirstOrDefault(n => string.Equals(n, request.DayOfWeek, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                problem = $"dayOfWeek is one of {string.Join(", ", names)}. " + RequestHelp;
                return false;
            }

            dayOfWeek = Enum.Parse<DayOfWeek>(name);
        }

        policy = new RotationPolicy(request.IntervalDays, timeOfDay, dayOfWeek, request.RotateBeforeExpiryDays, now, actor);
        problem = policy.Problem() is { } wrong ? wrong + " " + RequestHelp : string.Empty;
        return problem.Length == 0;
    }

    private static RotationPolicyView KeyView(RotationCandidate candidate) =>
        View(candidate.KeyPolicy is null ? "keystore" : "key", candidate.KeyPolicy is null ? candidate.Key.KeyStoreId : candidate.Key.Id, candidate.Policy!)
            with { NextRotationAt = candidate.NextAt(), LastDueAt = candidate.LastDueAt };

    private static RotationPolicyView View(string scope, string targetId, RotationPolicy p) => new(
        scope, targetId, p.IntervalDays, p.TimeOfDay?.ToString("HH':'mm", CultureInfo.InvariantCulture), p.DayOfWeek?.ToString(),
        p.RotateBeforeExpiryDays, p.Describe(), p.UpdatedAt, p.UpdatedBy);
}
