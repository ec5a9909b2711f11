using System.ComponentModel.DataAnnotations;
using Coffer.Auth;
using Coffer.Server.Hosting;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keys/attention: the key versions that will soon stop encrypting, for the console's Overview
/// (docs/console.md, "Overview"): those expiring within some days (docs/lifecycle.md, "Rotation policies,
/// activation and expiry") and those that have used most of their encryption budget
/// (<see cref="XksListenerOptions.MaxEncryptionsPerKeyVersion"/>). Both are index reads, so the Overview
/// asks at every paint whatever the number of keys.
/// </summary>
internal static class KeyAttentionEndpoints
{
    public static void Map(RouteGroupBuilder keys) =>
        keys.MapGet("/attention", ListAsync).RequirePermission(Permissions.KeysRead)
            .WithSummary("Key versions expiring within expiringWithinDays (default 30) or with at least budgetPercent (default 80) of their encryption budget used: at most limit (default 20) of each");

    private static async Task<Ok<KeyAttentionView>> ListAsync(
        ICofferStorage storage, CofferOptions options, TimeProvider time, CancellationToken ct,
        [Range(0, 3650)] int? expiringWithinDays = null, [Range(1, 100)] int? budgetPercent = null, [Range(1, 1000)] int? limit = null)
    {
        var now = time.GetUtcNow();
        var budget = options.Xks.MaxEncryptionsPerKeyVersion;
        var reservedAtLeast = (long)Math.Ceiling(budget * ((budgetPercent ?? 80) / 100.0));
        var versions = await storage.Keys.ListVersionsNeedingAttentionAsync(now.AddDays(expiringWithinDays ?? 30), Math.Max(1, reservedAtLeast), limit ?? 20, ct);
        return TypedResults.Ok(new KeyAttentionView([.. versions.Select(v => new KeyAttentionItem(
            v.KeyId, v.KeyStoreId, v.Name, v.Version, v.DeactivatesAt, v.EncryptionsReserved,
            Math.Min(1.0, (double)v.EncryptionsReserved / budget), v.EncryptionsReserved >= reservedAtLeast ? "budget" : "expiry"))]));
    }
}

/// <summary>Versions expiring soon (soonest first), then versions near their budget (fullest first); a
/// version that is both is listed under each.</summary>
public sealed record KeyAttentionView(IReadOnlyList<KeyAttentionItem> Versions);

/// <param name="ExpiresAt">The version's deactivatesAt, if it has one.</param>
/// <param name="BudgetUsed">The share of the version's encryption budget reserved so far, 0 to 1.</param>
/// <param name="Why">"expiry" or "budget": why it is listed.</param>
public sealed record KeyAttentionItem(string KeyId, string KeyStoreId, string Name, int Version, DateTimeOffset? ExpiresAt, long EncryptionsReserved, double BudgetUsed, string Why);
