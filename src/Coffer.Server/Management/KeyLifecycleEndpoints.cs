using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Approvals;
using Coffer.Server.Audit;
using Coffer.Server.Lifecycle;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/keys/{keyId}/rotate, /versions/{version}/{action} and /compromised-may-decrypt: the key
/// lifecycle (docs/design.md, "Lifecycle"). Legality is <see cref="KeyLifecycle"/>'s alone;
/// an illegal move is 409 with its reason and changes nothing. Every write is compare-and-set against
/// what the request read, so two administrators acting at once cannot both win.
/// </summary>
internal static class KeyLifecycleEndpoints
{
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
        versions.MapPost("/schedule-destruction", ScheduleDestructionAsync).RequirePermission(Permissions.KeysDestroy).RequiresQuorum(QuorumOperations.KeyDestroy).WithAuditAction("key.version.schedule-destruction")
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
                (string keyId, int version, HttpContext http, SealManager seal, AuditLog audit, TimeProvider time, CancellationToken ct) =>
                    ApplyAsync(keyId, version, action, null, http, seal, audit, time, ct))
            .WithAuditAction(auditAction).WithSummary(summary);

    private static Task<Results<Ok<KeyView>, ProblemHttpResult>> ScheduleDestructionAsync(
        string keyId, int version, ScheduleDestructionRequest? request, HttpContext http, SealManager seal, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var days = request?.WaitingPeriodDays ?? (int)KeyLifecycle.DefaultWaitingPeriod.TotalDays;
        return days < KeyLifecycle.MinWaitingPeriod.TotalDays || days > KeyLifecycle.MaxWaitingPeriod.TotalDays
            ? Task.FromResult<Results<Ok<KeyView>, ProblemHttpResult>>(Problems.BadRequest(
                $"waitingPeriodDays is {KeyLifecycle.MinWaitingPeriod.TotalDays:0} to {KeyLifecycle.MaxWaitingPeriod.TotalDays:0} (default {KeyLifecycle.DefaultWaitingPeriod.TotalDays:0})."))
            : ApplyAsync(keyId, version, KeyVersionAction.ScheduleDestruction, TimeSpan.FromDays(days), http, seal, audit, time, ct);
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> ApplyAsync(
        string keyId, int version, KeyVersionAction action, TimeSpan? waitingPeriod, HttpContext http, SealManager seal, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var storage = seal.Storage;
        var key = await storage.Keys.GetKeyAsync(keyId, ct);
        var stored = key is null ? null : (await storage.Keys.ListVersionsAsync(keyId, ct)).FirstOrDefault(v => v.Version == version);
        if (key is null || stored is null)
        {
            return key is null ? KeyEndpoints.NotFound(keyId) : Problems.NotFound($"Key '{keyId}' has no version {version}.");
        }

        if (KeyDestruction.Frozen(key) is { } frozen)
        {
            return Problems.Conflict(frozen);
        }

        var now = time.GetUtcNow();
        var next = KeyLifecycle.TryApply(stored.Lifecycle, action, now, out var refusal, waitingPeriod);
        if (next is null)
        {
            return Problems.Conflict(refusal!);
        }

        var actor = TokenAuthentication.CallerId(http);
        var found = await seal.ChangeAsync(async (backends, _) =>
        {
            // Again under the lock: a whole-key destruction or a rotation since the read above wins.
            var latest = await storage.Keys.GetKeyAsync(keyId, ct);
            if (latest is not null && KeyDestruction.Frozen(latest) is { } frozenNow)
            {
                throw new ConflictException(frozenNow);
            }

            // A Compromised version can no longer encrypt, so the key rotates: encryption carries on
            // under fresh material instead of stopping. That rotation is audited and alerted
            // as key.rotate like every other.
            var rotation = action == KeyVersionAction.MarkCompromised && latest?.CurrentVersion == version
                ? ManagementAudit.Caller(http, AuditActions.KeyRotate) with
                {
                    KeyStore = key.KeyStoreId, KeyId = keyId, KeyVersion = version, Details = $"version {version} compromised; rotating it away",
                }
                : null;
            if (rotation is null)
            {
                return await storage.Keys.UpdateVersionLifecycleAsync(keyId, version, stored.Lifecycle, next, now, actor, ct)
                    && (action != KeyVersionAction.Activate || latest?.CurrentVersion != version || await EndHandoverAsync(storage, keyId, version, now, actor, ct));
            }

            return await CompromiseAndRotateAsync(storage, backends, audit, rotation, latest!, stored.Lifecycle, next, now, actor, ct);
        }, ct);
        return await KeyEndpoints.FoundAsync(found, keyId, storage, time, ct);
    }

    /// <summary>The current version was activated before its time: the version that was to encrypt until
    /// then (Active, with that time as its expiry) is deactivated now, so only one version encrypts.</summary>
    private static async Task<bool> EndHandoverAsync(ICofferStorage storage, string keyId, int current, DateTimeOffset now, string actor, CancellationToken ct)
    {
        foreach (var older in (await storage.Keys.ListVersionsAsync(keyId, ct)).Where(v => v.Version < current && v.State == KeyVersionState.Active))
        {
            if (KeyLifecycle.TryApply(older.Lifecycle, KeyVersionAction.Deactivate, now, out _) is { } deactivated)
            {
                await storage.Keys.UpdateVersionLifecycleAsync(keyId, older.Version, older.Lifecycle, deactivated, now, actor, ct);
            }
        }

        return true;
    }

    /// <summary>Marks the current version Compromised and rotates, the rotation recorded as its own
    /// change: requested before anything is made (fail closed), then its outcome.</summary>
    private static async Task<bool> CompromiseAndRotateAsync(ICofferStorage storage, CryptoBackends backends, AuditLog audit, AuditEvent rotation,
        ManagedKey key, VersionLifecycle expected, VersionLifecycle compromised, DateTimeOffset now, string actor, CancellationToken ct)
    {
        var version = key.CurrentVersion;
        await audit.AppendAsync(rotation with { Outcome = AuditOutcome.Requested }, ct);
        AuditEvent outcome;
        try
        {
            // The new material exists before anything is written: a backend that cannot make it
            // (an HSM outage) leaves the version as it was.
            var replacement = await KeyRotator.NewVersionAsync(storage, backends, key, now, activatesAt: null, ct);
            if (!await storage.Keys.UpdateVersionLifecycleAsync(key.Id, version, expected, compromised, now, actor, ct))
            {
                outcome = rotation with { Outcome = AuditOutcome.Error, ErrorName = "Not found", Reason = "the key no longer exists" };
                await TryAppendAsync(audit, outcome, ct);
                return false;
            }

            try
            {
                await storage.Keys.RotateAsync(key.Id, version, replacement, now, actor, claim: null, ct);
                outcome = rotation with { KeyVersion = replacement.Version, Details = rotation.Details + $"; version {replacement.Version} encrypts now" };
            }
            catch (ConflictException e)
            {
                // Another node rotated first: the key rotated, which is all this one wanted, but not by this change.
                outcome = rotation with { Outcome = AuditOutcome.Error, ErrorName = "Conflict", Reason = e.Message };
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or AuditUnavailableException))
        {
            await TryAppendAsync(audit, rotation with
            {
                Outcome = AuditOutcome.Error, ErrorName = "Rotation failed",
                Reason = e is ConflictException or CryptoException ? e.Message : "the version was not changed; see the server log",
            }, ct);
            throw;
        }

        await TryAppendAsync(audit, outcome, ct);
        return true;
    }

    /// <summary>An outcome after the change was made: if the log is down now, the call's own outcome
    /// record (ManagementAudit) answers 503.</summary>
    private static async Task TryAppendAsync(AuditLog audit, AuditEvent outcome, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(outcome, ct);
        }
        catch (AuditUnavailableException)
        {
        }
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SetDatesAsync(
        string keyId, int version, VersionDatesRequest request, HttpContext http, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (VersionDates.Problem(request.ActivatesAt, request.DeactivatesAt, now) is { } problem)
        {
            return Problems.BadRequest(problem);
        }

        var storage = seal.Storage;
        var key = await storage.Keys.GetKeyAsync(keyId, ct);
        var stored = key is null ? null : (await storage.Keys.ListVersionsAsync(keyId, ct)).FirstOrDefault(v => v.Version == version);
        if (key is null || stored is null)
        {
            return key is null ? KeyEndpoints.NotFound(keyId) : Problems.NotFound($"Key '{keyId}' has no version {version}.");
        }

        var next = VersionDates.TrySet(stored.Lifecycle, request.ActivatesAt, request.DeactivatesAt, now, out var refusal);
        if (next is null)
        {
            return Problems.Conflict(refusal!);
        }

        var actor = TokenAuthentication.CallerId(http);
        var found = await seal.ChangeAsync((_, _) => storage.Keys.UpdateVersionLifecycleAsync(keyId, version, stored.Lifecycle, next, now, actor, ct), ct);
        return await KeyEndpoints.FoundAsync(found, keyId, storage, time, ct);
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RotateAsync(
        string keyId, RotateKeyRequest? request, HttpContext http, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var storage = seal.Storage;
        // Read before waiting for the change lock: two rotations sent at once both see the same
        // current version, and the second fails its compare-and-set instead of rotating again.
        var key = await storage.Keys.GetKeyAsync(keyId, ct);
        if (key is null)
        {
            return KeyEndpoints.NotFound(keyId);
        }

        var now = time.GetUtcNow();
        if (VersionDates.Problem(request?.ActivatesAt, null, now) is { } problem)
        {
            return Problems.BadRequest("activatesAt: " + problem);
        }

        var expected = request?.ExpectedCurrentVersion ?? key.CurrentVersion;
        var found = await KeyRotator.RotateAsync(seal, keyId, expected, TokenAuthentication.CallerId(http), now, request?.ActivatesAt, ct);
        return await KeyEndpoints.FoundAsync(found, keyId, storage, time, ct);
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SetCompromisedMayDecryptAsync(
        string keyId, CompromisedMayDecryptRequest request, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var found = await seal.ChangeAsync(async (_, _) =>
        {
            await KeyEndpoints.RefuseIfDestroyedAsync(seal.Storage, keyId, ct);
            return await seal.Storage.Keys.SetCompromisedMayDecryptAsync(keyId, request.Allowed, ct);
        }, ct);
        return await KeyEndpoints.FoundAsync(found, keyId, seal.Storage, time, ct);
    }
}
