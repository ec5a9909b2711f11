using System.Globalization;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// The changes a key's own schedule makes (docs/design.md, "Lifecycle"): it rotates every key whose
/// rotation policy is due (through <see cref="KeyRotator"/>, the path of <see cref="KeyLifecycleService.RotateAsync"/>)
/// and records the activations and expiries whose time has passed (the hot path already honours them at
/// their instant), each move checked by <see cref="KeyLifecycle"/>. <see cref="RotationScheduler"/> calls
/// this once a minute.
/// </summary>
/// <remarks>
/// <para>Exactly once: a due rotation is re-read under the seal's change lock, and storage claims its
/// due time in the rotation's own transaction, compare-and-set on the current version; so two passes,
/// or two nodes, never rotate a key twice for one due time. The last handled due time is persisted, so
/// a restart neither forgets nor repeats, and missed periods collapse into one rotation.</para>
/// <para>Fail closed: each change is audited (actor kind <c>system</c>) as <c>requested</c> before it
/// is made, then <c>ok</c> or <c>error</c>; a change whose first record cannot be written is not made
/// and is tried again next pass, as is a failed rotation (an HSM that is down). Sealed, it does nothing.</para>
/// </remarks>
internal sealed partial class ScheduledChangeService(SealManager seal, AuditLog audit, Hosting.CofferOptions options, ILogger<ScheduledChangeService> logger)
{
    /// <summary>Makes the rotations due at <paramref name="now"/>, then records the activations and
    /// expiries due now, in one change (one key ring reload).</summary>
    public async Task ApplyDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (seal.IsSealed)
        {
            return;
        }

        var storage = seal.Storage;
        var rotations = (await storage.Rotation.ListCandidatesAsync(null, ct)).Where(c => c.DueAt(now, options.Xks.MaxEncryptionsPerKeyVersion) is not null).Select(c => c.Key.Id).ToList();
        var changes = await storage.Rotation.ListDueVersionChangesAsync(now, ct);
        if (rotations.Count == 0 && changes.Count == 0)
        {
            return;
        }

        try
        {
            await seal.ChangeAsync(async (backends, _) =>
            {
                foreach (var keyId in rotations)
                {
                    await RotateLockedAsync(storage, backends, keyId, now, ct);
                }

                // Read again: a rotation just deactivated the version it replaced, expiry or not.
                foreach (var version in await storage.Rotation.ListDueVersionChangesAsync(now, ct))
                {
                    await RecordStateChangesLockedAsync(storage, version, now, ct);
                }

                return true;
            }, ct);
        }
        catch (SealedException)
        {
            // Sealed meanwhile: nothing can change until unseal, and the next pass after it catches up.
        }
    }

    private async Task RotateLockedAsync(ICofferStorage storage, CryptoBackends backends, string keyId, DateTimeOffset now, CancellationToken ct)
    {
        // Under the change lock: a pass that raced this one, or a manual rotation, may have answered it.
        var candidate = await storage.Rotation.ListCandidatesAsync(keyId, ct) is [var only] ? only : null;
        if (candidate?.DueAt(now, options.Xks.MaxEncryptionsPerKeyVersion) is not { } due)
        {
            return;
        }

        var from = candidate.Current.Version;
        var record = new AuditEvent
        {
            Action = LifecycleAuditActions.RotateScheduled,
            ActorKind = AuditActorKinds.System,
            KeyStore = candidate.Key.KeyStoreId,
            KeyId = keyId,
            KeyVersion = from,
            Details = string.Create(CultureInfo.InvariantCulture, $"due {due.DueAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} ({due.Reason}); rotating version {from} away"),
        };
        if (!await RequestAsync(record, ct))
        {
            return;
        }

        try
        {
            var created = await KeyRotator.RotateLockedAsync(storage, backends, keyId, from, Actor.System.Name, now, new RotationClaim(due.DueAt), activatesAt: null, ct);
            await OutcomeAsync(created is null
                ? record with { Outcome = AuditOutcome.Error, ErrorName = "Not found", Reason = "the key no longer exists" }
                : record with { KeyVersion = created, Details = record.Details + string.Create(CultureInfo.InvariantCulture, $"; version {created} encrypts now") }, ct);
            if (created is not null)
            {
                Log.Rotated(logger, keyId, from, created.Value, due.Reason);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Nothing was written (the claim is in the rotation's transaction): the next pass retries.
            Log.RotationFailed(logger, keyId, e.GetType().Name, e);
            await OutcomeAsync(record with { Outcome = AuditOutcome.Error, ErrorName = ErrorName(e), Reason = Reason(e) }, ct);
        }
    }

    /// <summary>Records the activation and then the expiry of <paramref name="version"/> whose times passed.</summary>
    private async Task RecordStateChangesLockedAsync(ICofferStorage storage, KeyVersion version, DateTimeOffset now, CancellationToken ct)
    {
        var keyStore = (await storage.Keys.GetKeyAsync(version.KeyId, ct))?.KeyStoreId;
        var lifecycle = version.Lifecycle;
        while (Due(lifecycle, now) is { } change)
        {
            var next = KeyLifecycle.TryApply(lifecycle, change.Action, now, out var refusal)
                ?? throw new InvalidOperationException("A due activation or expiry was refused: " + refusal);
            var record = new AuditEvent
            {
                Action = change.AuditAction,
                ActorKind = AuditActorKinds.System,
                KeyStore = keyStore,
                KeyId = version.KeyId,
                KeyVersion = version.Version,
                Details = string.Create(CultureInfo.InvariantCulture, $"{lifecycle.State} -> {next.State} at its {change.What} time {change.At.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}"),
            };
            if (!await RequestAsync(record, ct))
            {
                return;
            }

            try
            {
                // Recorded as changed when it took effect on the hot path, not when this pass noticed.
                await storage.Keys.UpdateVersionLifecycleAsync(version.KeyId, version.Version, lifecycle, next, change.At, Actor.System.Name, ct);
            }
            catch (ConflictException e)
            {
                // Someone changed the version since it was read; the next pass looks again.
                await OutcomeAsync(record with { Outcome = AuditOutcome.Error, ErrorName = ErrorName(e), Reason = Reason(e) }, ct);
                return;
            }

            await OutcomeAsync(record, ct);
            lifecycle = next;
        }
    }

    private static (KeyVersionAction Action, string AuditAction, string What, DateTimeOffset At)? Due(VersionLifecycle lifecycle, DateTimeOffset now) => lifecycle switch
    {
        { DestroysAt: not null } => null,
        { State: KeyVersionState.PreActive, ActivatesAt: { } at } when at <= now => (KeyVersionAction.Activate, LifecycleAuditActions.ActivateScheduled, "activation", at),
        { State: KeyVersionState.Active, DeactivatesAt: { } at } when at <= now => (KeyVersionAction.Deactivate, LifecycleAuditActions.Expire, "expiry", at),
        _ => null,
    };

    /// <summary>Writes the <c>requested</c> record; false (and the change is not made) if it cannot be.</summary>
    private async Task<bool> RequestAsync(AuditEvent record, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);
            return true;
        }
        catch (AuditUnavailableException e)
        {
            Log.NotAudited(logger, record.Action, record.KeyId, e);
            return false;
        }
    }

    private async Task OutcomeAsync(AuditEvent record, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(record, ct);
        }
        catch (AuditUnavailableException e)
        {
            // The change is made (its requested record shows it was about to be); say so in the log.
            Log.OutcomeNotAudited(logger, record.Action, record.KeyId, e);
        }
    }

    private static string ErrorName(Exception e) => e switch
    {
        ConflictException => "Conflict",
        CryptoBackendUnavailableException => "HSM unavailable",
        CryptoException => "Key material problem",
        SealStateException => "Backend not configured",
        _ => "Internal error",
    };

    // These messages are written for operators and carry no secrets; anything else by its type only.
    private static string Reason(Exception e) => e switch
    {
        ConflictException or CryptoException or SealStateException or CryptoBackendUnavailableException => e.Message,
        _ => e.GetType().Name,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message = "Key {KeyId} rotated by its policy ({Reason}): version {From} -> {To}")]
        public static partial void Rotated(ILogger logger, string keyId, int from, int to, string reason);

        [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "Scheduled rotation of key {KeyId} failed ({ExceptionType}); it is retried next tick")]
        public static partial void RotationFailed(ILogger logger, string keyId, string exceptionType, Exception exception);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "The audit log could not record {Action} of key {KeyId}; nothing was changed, it is retried next tick")]
        public static partial void NotAudited(ILogger logger, string action, string? keyId, Exception exception);

        [LoggerMessage(EventId = 6103, Level = LogLevel.Error, Message = "The audit log could not record the outcome of {Action} of key {KeyId} (the change was made)")]
        public static partial void OutcomeNotAudited(ILogger logger, string action, string? keyId, Exception exception);
    }
}
