using Coffer.Approvals;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.Server.Approvals;
using Coffer.Server.Keys;
using Coffer.Server.Lifecycle;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keys/{keyId}/rotate, /versions/{version}/{action} and /compromised-may-decrypt: the key
/// lifecycle (docs/design.md, "Lifecycle"), decided by <see cref="KeyLifecycleService"/>: an illegal
/// move is 409 with its reason and changes nothing.
/// </summary>
internal static class KeyLifecycleEndpoints
{
    public const string ScheduleVersionDestructionAction = "key.version.schedule-destruction";

    public static void Map(RouteGroupBuilder keys)
    {
        keys.MapPost("/{keyId}/rotate", RotateAsync).WithAuditAction("key.rotate")
            .WithSummary("Rotate a key: a new version, made by the key store's backend, becomes the one that encrypts; the previous one only decrypts. With activatesAt the new version is PreActive until then and the previous one encrypts until then. With expectedCurrentVersion, 409 if another rotation came first");
        var versions = keys.MapGroup("/{keyId}/versions/{version:int}");
        Transition(versions, "activate", KeyVersionAction.Activate, "key.version.activate",
            "Activate a PreActive version now; if it is the current version, the version it was to take over from stops encrypting at once");
        Transition(versions, "deactivate", KeyVersionAction.Deactivate, "key.version.deactivate",
            "Deactivate (revoke) an Active version: it only decrypts; if it is the current version the key cannot encrypt until rotated");
        Transition(versions, "compromise", KeyVersionAction.MarkCompromised, "key.version.compromise",
            "Mark a version Compromised: it never encrypts again and decrypts only if the key allows it; the current version's key rotates");
        versions.MapPost("/schedule-destruction", ScheduleDestructionAsync).RequirePermission(Permissions.KeysDestroy).RequiresQuorum(QuorumOperations.KeyDestroy).WithAuditAction(ScheduleVersionDestructionAction)
            .WithSummary("Schedule destruction of a version that is not Active after waitingPeriodDays (7 to 30, default 30); it is unusable at once, and cancel-destruction restores it");
        Transition(versions, "cancel-destruction", KeyVersionAction.CancelDestruction, "key.version.cancel-destruction",
            "Cancel a scheduled destruction during its waiting period: the version works as before");
        versions.MapPut("/dates", SetDatesAsync).WithAuditAction("key.version.dates")
            .WithSummary("Set or clear (null or absent) a version's activatesAt (PreActive only) and deactivatesAt (expiry; PreActive or Active), both in the future and expiry after activation; the hot path honours them at their instant and the scheduler records the change");
        keys.MapPut("/{keyId}/compromised-may-decrypt", SetCompromisedMayDecryptAsync).WithAuditAction("key.compromised-may-decrypt")
            .WithSummary("Allow or forbid (default) the key's Compromised versions to decrypt");
    }

    private static void Transition(RouteGroupBuilder versions, string path, KeyVersionAction action, string auditAction, string summary) =>
        versions.MapPost("/" + path,
                async (string keyId, int version, HttpContext http, KeyLifecycleService lifecycle, TimeProvider time, CancellationToken ct) =>
                    Answer(await lifecycle.ApplyAsync(keyId, version, action, null, ManagementAudit.Actor(http), ct), time))
            .WithAuditAction(auditAction).WithSummary(summary);

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> ScheduleDestructionAsync(
        string keyId, int version, ScheduleDestructionRequest? request, HttpContext http, KeyLifecycleService lifecycle, TimeProvider time, CancellationToken ct) =>
        Answer(await lifecycle.ApplyAsync(keyId, version, KeyVersionAction.ScheduleDestruction,
            KeyLifecycleService.WaitingPeriod(request?.WaitingPeriodDays), ManagementAudit.Actor(http), ct), time);

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SetDatesAsync(
        string keyId, int version, VersionDatesRequest request, HttpContext http, KeyLifecycleService lifecycle, TimeProvider time, CancellationToken ct) =>
        Answer(await lifecycle.SetDatesAsync(keyId, version, request.ActivatesAt, request.DeactivatesAt, ManagementAudit.Actor(http), ct), time);

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RotateAsync(
        string keyId, RotateKeyRequest? request, HttpContext http, KeyLifecycleService lifecycle, TimeProvider time, CancellationToken ct) =>
        Answer(await lifecycle.RotateAsync(keyId, request?.ExpectedCurrentVersion, request?.ActivatesAt, ManagementAudit.Actor(http), ct), time);

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SetCompromisedMayDecryptAsync(
        string keyId, CompromisedMayDecryptRequest request, KeyService keys, TimeProvider time, CancellationToken ct) =>
        Answer(await keys.SetCompromisedMayDecryptAsync(keyId, request.Allowed, ct), time);

    private static Results<Ok<KeyView>, ProblemHttpResult> Answer(KeyState changed, TimeProvider time) =>
        TypedResults.Ok(KeyEndpoints.View(changed, time.GetUtcNow()));
}
