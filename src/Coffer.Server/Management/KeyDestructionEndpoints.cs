using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.Server.Approvals;
using Coffer.Server.Seal;
using Coffer.Storage;
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
/// KeyNotFoundException for good. Legality is <see cref="KeyDestruction"/>'s; a refused move is 409.
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
        string keyId, ScheduleDestructionRequest? request, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var days = request?.WaitingPeriodDays ?? (int)KeyLifecycle.DefaultWaitingPeriod.TotalDays;
        if (days < KeyLifecycle.MinWaitingPeriod.TotalDays || days > KeyLifecycle.MaxWaitingPeriod.TotalDays)
        {
            return Problems.BadRequest(
                $"waitingPeriodDays is {KeyLifecycle.MinWaitingPeriod.TotalDays:0} to {KeyLifecycle.MaxWaitingPeriod.TotalDays:0} (default {KeyLifecycle.DefaultWaitingPeriod.TotalDays:0}).");
        }

        var storage = seal.Storage;
        var found = await seal.ChangeAsync(async (_, _) =>
        {
            var key = await storage.Keys.GetKeyAsync(keyId, ct);
            if (key is null)
            {
                return false;
            }

            var destroysAt = KeyDestruction.TrySchedule(key, time.GetUtcNow(), TimeSpan.FromDays(days), out var refusal)
                ?? throw new ConflictException(refusal!);
            return await storage.Keys.SetKeyDestroysAtAsync(keyId, key.DestroysAt, destroysAt, ct);
        }, ct);
        return await KeyEndpoints.FoundAsync(found, keyId, storage, time, ct);
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> CancelAsync(string keyId, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var storage = seal.Storage;
        var found = await seal.ChangeAsync(async (_, _) =>
        {
            var key = await storage.Keys.GetKeyAsync(keyId, ct);
            if (key is null)
            {
                return false;
            }

            return KeyDestruction.CanCancel(key, out var refusal)
                ? await storage.Keys.SetKeyDestroysAtAsync(keyId, key.DestroysAt, null, ct)
                : throw new ConflictException(refusal!);
        }, ct);
        return await KeyEndpoints.FoundAsync(found, keyId, storage, time, ct);
    }
}
