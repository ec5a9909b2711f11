using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.Keys;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// The key lifecycle (docs/design.md, "Lifecycle"): rotation, version transitions and dates, and the
/// scheduling of a whole key's destruction. Legality is <see cref="KeyLifecycle"/>'s and
/// <see cref="KeyDestruction"/>'s alone; an illegal move is a <see cref="ConflictException"/> with its
/// reason and changes nothing. Every write is compare-and-set against what the change read, so two
/// administrators acting at once cannot both win, and is made under the seal's change lock, so the key
/// ring serves it when the call returns.
/// </summary>
internal sealed class KeyLifecycleService(SealManager seal, AuditLog audit, TimeProvider time, KeyService keys)
{
    /// <summary>The waiting period before a destruction: <paramref name="days"/> (7 to 30), 30 when not given.</summary>
    public static TimeSpan WaitingPeriod(int? days)
    {
        var value = days ?? (int)KeyLifecycle.DefaultWaitingPeriod.TotalDays;
        return value < KeyLifecycle.MinWaitingPeriod.TotalDays || value > KeyLifecycle.MaxWaitingPeriod.TotalDays
            ? throw new InvalidRequestException(
                $"waitingPeriodDays is {KeyLifecycle.MinWaitingPeriod.TotalDays:0} to {KeyLifecycle.MaxWaitingPeriod.TotalDays:0} (default {KeyLifecycle.DefaultWaitingPeriod.TotalDays:0}).")
            : TimeSpan.FromDays(value);
    }

    /// <summary>
    /// Rotates a key: a new version made by its key store's backend becomes the one that encrypts
    /// (PreActive until <paramref name="activatesAt"/>, when given). With <paramref name="expectedCurrentVersion"/>
    /// a rotation that another one beat is a conflict.
    /// </summary>
    public async Task<KeyState> RotateAsync(string keyId, int? expectedCurrentVersion, DateTimeOffset? activatesAt, Actor actor, CancellationToken ct)
    {
        // Read before waiting for the change lock: two rotations sent at once both see the same
        // current version, and the second fails its compare-and-set instead of rotating again.
        var key = await seal.Storage.Keys.GetKeyAsync(keyId, ct) ?? throw KeyService.KeyNotFound(keyId);
        var now = time.GetUtcNow();
        if (VersionDates.Problem(activatesAt, null, now) is { } problem)
        {
            throw new InvalidRequestException("activatesAt: " + problem);
        }

        var found = await KeyRotator.RotateAsync(seal, keyId, expectedCurrentVersion ?? key.CurrentVersion, actor.Name, now, activatesAt, ct);
        return await FoundAsync(found, keyId, ct);
    }

    /// <summary>Moves one version of a key (activate, deactivate, compromise, schedule or cancel its
    /// destruction). Compromising the current version rotates the key, audited as its own rotation.</summary>
    /// <param name="waitingPeriod">For <see cref="KeyVersionAction.ScheduleDestruction"/>: <see cref="WaitingPeriod"/>.</param>
    public async Task<KeyState> ApplyAsync(string keyId, int version, KeyVersionAction action, TimeSpan? waitingPeriod, Actor actor, CancellationToken ct)
    {
        var storage = seal.Storage;
        var (key, stored) = await VersionAsync(keyId, version, ct);
        if (KeyDestruction.Frozen(key) is { } frozen)
        {
            throw new ConflictException(frozen);
        }

        var now = time.GetUtcNow();
        var next = KeyLifecycle.TryApply(stored.Lifecycle, action, now, out var refusal, waitingPeriod) ?? throw new ConflictException(refusal!);
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
            if (action == KeyVersionAction.MarkCompromised && latest?.CurrentVersion == version)
            {
                var rotation = actor.Event(AuditActions.KeyRotate) with
                {
                    KeyStore = key.KeyStoreId, KeyId = keyId, KeyVersion = version, Details = $"version {version} compromised; rotating it away",
                };
                return await CompromiseAndRotateAsync(storage, backends, rotation, latest, stored.Lifecycle, next, now, actor.Name, ct);
            }

            return await storage.Keys.UpdateVersionLifecycleAsync(keyId, version, stored.Lifecycle, next, now, actor.Name, ct)
                && (action != KeyVersionAction.Activate || latest?.CurrentVersion != version || await EndHandoverAsync(storage, keyId, version, now, actor.Name, ct));
        }, ct);
        return await FoundAsync(found, keyId, ct);
    }

    /// <summary>Sets or clears a version's activation and expiry times (<see cref="VersionDates"/>).</summary>
    public async Task<KeyState> SetDatesAsync(string keyId, int version, DateTimeOffset? activatesAt, DateTimeOffset? deactivatesAt, Actor actor, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (VersionDates.Problem(activatesAt, deactivatesAt, now) is { } problem)
        {
            throw new InvalidRequestException(problem);
        }

        var (_, stored) = await VersionAsync(keyId, version, ct);
        var next = VersionDates.TrySet(stored.Lifecycle, activatesAt, deactivatesAt, now, out var refusal) ?? throw new ConflictException(refusal!);
        var found = await seal.ChangeAsync((_, _) => seal.Storage.Keys.UpdateVersionLifecycleAsync(keyId, version, stored.Lifecycle, next, now, actor.Name, ct), ct);
        return await FoundAsync(found, keyId, ct);
    }

    /// <summary>Schedules the whole key's destruction after <paramref name="waitingPeriod"/>; it serves
    /// AWS KMS nothing from now on, and the destruction sweeper destroys it when the period ends.</summary>
    public async Task<KeyState> ScheduleKeyDestructionAsync(string keyId, TimeSpan waitingPeriod, CancellationToken ct)
    {
        var storage = seal.Storage;
        var found = await seal.ChangeAsync(async (_, _) =>
        {
            var key = await storage.Keys.GetKeyAsync(keyId, ct);
            if (key is null)
            {
                return false;
            }

            var destroysAt = KeyDestruction.TrySchedule(key, time.GetUtcNow(), waitingPeriod, out var refusal) ?? throw new ConflictException(refusal!);
            return await storage.Keys.SetKeyDestroysAtAsync(keyId, key.DestroysAt, destroysAt, ct);
        }, ct);
        return await FoundAsync(found, keyId, ct);
    }

    /// <summary>Cancels the whole key's scheduled destruction during its waiting period.</summary>
    public async Task<KeyState> CancelKeyDestructionAsync(string keyId, CancellationToken ct)
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
        return await FoundAsync(found, keyId, ct);
    }

    private async Task<(ManagedKey Key, KeyVersion Version)> VersionAsync(string keyId, int version, CancellationToken ct)
    {
        var key = await seal.Storage.Keys.GetKeyAsync(keyId, ct) ?? throw KeyService.KeyNotFound(keyId);
        var stored = (await seal.Storage.Keys.ListVersionsAsync(keyId, ct)).FirstOrDefault(v => v.Version == version)
            ?? throw new NotFoundException($"Key '{keyId}' has no version {version}.");
        return (key, stored);
    }

    private async Task<KeyState> FoundAsync(bool found, string keyId, CancellationToken ct) =>
        found ? await keys.ReadAsync(keyId, ct) : throw KeyService.KeyNotFound(keyId);

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
    private async Task<bool> CompromiseAndRotateAsync(ICofferStorage storage, CryptoBackends backends, AuditEvent rotation,
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
                await TryAppendAsync(outcome, ct);
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
            await TryAppendAsync(rotation with
            {
                Outcome = AuditOutcome.Error, ErrorName = "Rotation failed",
                Reason = e is ConflictException or CryptoException ? e.Message : "the version was not changed; see the server log",
            }, ct);
            throw;
        }

        await TryAppendAsync(outcome, ct);
        return true;
    }

    /// <summary>An outcome after the change was made: if the log is down now, the call's own outcome
    /// record (ManagementAudit) answers 503.</summary>
    private async Task TryAppendAsync(AuditEvent outcome, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(outcome, ct);
        }
        catch (AuditUnavailableException)
        {
        }
    }
}
