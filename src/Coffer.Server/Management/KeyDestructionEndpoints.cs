using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.Server.Approvals;
using Coffer.Server.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keys/{keyId}/schedule-destruction and /cancel-destruction: destroying a whole key after a
/// 7–30 day waiting period, as AWS KMS's ScheduleKeyDeletion. While it waits the key serves
/// nothing (XKS answers InvalidStateException); when it ends the destruction sweeper
/// (<see cref="Lifecycle.DestructionSweeper"/>) destroys every version's material and the key answers
/// KeyNotFoundException for good. <see cref="KeyLifecycleService"/> decides; a refused move is 409.
/// </summary>
internal static class KeyDestructionEndpoints
{
    public static void Map(RouteGroupBuilder keys)
    {
        keys.MapPost("/{keyId}/schedule-destruction", ScheduleAsync).RequirePermission(Permissions.KeysDestroy).RequiresQuorum(QuorumOperations.KeyDestroy).WithAuditAction(AuditActions.KeyScheduleDestruction)
            .WithSummary("Schedule destruction of the whole key after waitingPeriodDays (7 to 30, default 30): it serves AWS KMS nothing from now on, cancel-destruction restores it, and when the period ends every version's material is destroyed");
        keys.MapPost("/{keyId}/cancel-destruction", CancelAsync).WithAuditAction(AuditActions.KeyCancelDestruction)
            .WithSummary("Cancel the key's scheduled destruction during its waiting period: it works as before");
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> ScheduleAsync(
        string keyId, ScheduleDestructionRequest? request, KeyLifecycleService lifecycle, TimeProvider time, CancellationToken ct) =>
        TypedResults.Ok(KeyEndpoints.View(await lifecycle.ScheduleKeyDestructionAsync(keyId, KeyLifecycleService.WaitingPeriod(request?.WaitingPeriodDays), ct), time.GetUtcNow()));

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> CancelAsync(string keyId, KeyLifecycleService lifecycle, TimeProvider time, CancellationToken ct) =>
        TypedResults.Ok(KeyEndpoints.View(await lifecycle.CancelKeyDestructionAsync(keyId, ct), time.GetUtcNow()));
}
