using Coffer.Audit;
using Coffer.Server.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// POST /api/v1/keys/rotate: "one-click rotation across key stores", run by
/// <see cref="BulkRotationService"/>; the answer says per key what happened.
/// </summary>
internal static class BulkRotateEndpoints
{
    public static void Map(RouteGroupBuilder keys) =>
        keys.MapPost("/rotate", RotateManyAsync).WithAuditAction(AuditActions.KeyRotateMany)
            .WithSummary("Rotate every key matching a filter (keyStoreId, tag, keyIds, namePrefix; all given must match, or all: true); dryRun: true lists what would rotate and changes nothing");

    private static async Task<Results<Ok<BulkRotateView>, ProblemHttpResult>> RotateManyAsync(
        BulkRotateRequest request, HttpContext http, BulkRotationService bulk, CancellationToken ct)
    {
        var items = (await bulk.RotateAsync(
            new BulkRotation(request.KeyStoreId, request.Tag, request.KeyIds, request.NamePrefix, request.All, request.DryRun), ManagementAudit.Actor(http), ct))
            .Select(i => new BulkRotateItem(i.Key.Id, i.Key.ExternalId, i.Key.KeyStoreId, i.Key.CurrentVersion, i.ToVersion, Name(i.Outcome), i.Error))
            .ToList();
        return TypedResults.Ok(new BulkRotateView(request.DryRun, items.Count,
            Count(items, BulkRotationOutcome.Rotated), Count(items, BulkRotationOutcome.Failed), Count(items, BulkRotationOutcome.Skipped), items));
    }

    private static int Count(List<BulkRotateItem> items, BulkRotationOutcome outcome) => items.Count(i => i.Outcome == Name(outcome));

    private static string Name(BulkRotationOutcome outcome) => outcome switch
    {
        BulkRotationOutcome.WouldRotate => "would-rotate",
        BulkRotationOutcome.Rotated => "rotated",
        BulkRotationOutcome.Failed => "failed",
        _ => "skipped",
    };
}
