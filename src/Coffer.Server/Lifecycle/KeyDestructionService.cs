using System.Globalization;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// Destroys key material whose waiting period is over (docs/design.md, "Lifecycle"): every version
/// whose own destruction is due, and every version of a key whose whole-key destruction is due, after
/// which the key becomes a tombstone. <see cref="KeyLifecycleService"/> schedules and cancels these;
/// <see cref="DestructionSweeper"/> calls this when the time comes. Whether a version is due is
/// <see cref="KeyDestruction"/>'s rule alone.
/// </summary>
/// <remarks>
/// <para>Per version, under the seal's change lock: check it is still due (a cancel may have come
/// first), write a <c>requested</c> audit record with the system as actor — fail closed: if it cannot
/// be written nothing is destroyed and the pass stops — then destroy what the material refers to in its
/// backend (an HSM object: C_DestroyObject), then mark the version Destroyed and erase its stored
/// material, then record the outcome. The key ring is rebuilt at once, so no opened copy outlives the
/// change.</para>
/// <para>Idempotent: a pass that stops between the HSM and the database finds the version due again
/// next time, and the backend reports the object already gone rather than failing. Should two nodes
/// ever overlap at a change of leader, the compare-and-set in storage lets only one record it.</para>
/// </remarks>
internal sealed partial class KeyDestructionService(SealManager seal, AuditLog audit, ILogger<KeyDestructionService> logger)
{
    /// <summary>Destroys everything due at <paramref name="now"/>; nothing while sealed (it needs the backends).
    /// A version that cannot be destroyed now is left for the next pass; the audit log or the seal
    /// going away stops the pass.</summary>
    public async Task DestroyDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (seal.IsSealed)
        {
            return;
        }

        var storage = seal.Storage;
        foreach (var key in await storage.Keys.ListKeysDueForDestructionAsync(now, ct))
        {
            if (await DestroyKeyAsync(key, now, ct) == Result.Stop)
            {
                return;
            }
        }

        foreach (var version in await storage.Keys.ListVersionsDueForDestructionAsync(now, ct))
        {
            if (await DestroyVersionAsync(version.KeyId, version.Version, now, ct) == Result.Stop)
            {
                return;
            }
        }
    }

    private async Task<Result> DestroyKeyAsync(ManagedKey key, DateTimeOffset now, CancellationToken ct)
    {
        var storage = seal.Storage;
        var record = Actor.System.Event(AuditActions.KeyDestroy) with
        {
            KeyStore = key.KeyStoreId,
            KeyId = key.Id,
            Details = string.Create(CultureInfo.InvariantCulture, $"key '{key.ExternalId}': its destruction waiting period ended at {key.DestroysAt:O}"),
        };
        if (!await TryAuditAsync(record with { Outcome = AuditOutcome.Requested }, ct))
        {
            return Result.Stop;
        }

        var failed = 0;
        foreach (var version in await storage.Keys.ListVersionsAsync(key.Id, ct))
        {
            if (version.State == KeyVersionState.Destroyed)
            {
                continue;
            }

            switch (await DestroyVersionAsync(key.Id, version.Version, now, ct))
            {
                case Result.Stop:
                    return Result.Stop;
                case Result.Failed:
                    failed++;
                    break;
            }
        }

        if (failed > 0)
        {
            await TryAuditAsync(record with
            {
                Outcome = AuditOutcome.Error,
                ErrorName = "Destruction incomplete",
                Reason = string.Create(CultureInfo.InvariantCulture, $"{failed} version(s) could not be destroyed; the next sweep retries"),
            }, ct);
            return Result.Failed;
        }

        try
        {
            // Under the change lock, so the key ring drops the key (XKS: KeyNotFoundException) at once.
            await seal.ChangeAsync((_, _) => storage.Keys.MarkKeyDestroyedAsync(key.Id, now, ct), ct);
        }
        catch (SealedException)
        {
            return Result.Stop;
        }

        await TryAuditAsync(record with { Details = record.Details + "; every version's material destroyed, the key is a tombstone" }, ct);
        Log.KeyDestroyed(logger, key.Id);
        return Result.Done;
    }

    private async Task<Result> DestroyVersionAsync(string keyId, int version, DateTimeOffset now, CancellationToken ct)
    {
        var storage = seal.Storage;
        try
        {
            return await seal.ChangeAsync(async (backends, _) =>
            {
                var key = await storage.Keys.GetKeyAsync(keyId, ct);
                var stored = key is null ? null : (await storage.Keys.ListVersionsAsync(keyId, ct)).FirstOrDefault(v => v.Version == version);
                if (key is null || stored is null || !KeyDestruction.IsVersionDue(key, stored.Lifecycle, now))
                {
                    // Cancelled (or already destroyed) since the pass listed it.
                    return Result.Done;
                }

                var record = Actor.System.Event(AuditActions.KeyVersionDestroy) with
                {
                    KeyStore = key.KeyStoreId,
                    KeyId = keyId,
                    KeyVersion = version,
                    Details = stored.DestroysAt is { } due
                        ? string.Create(CultureInfo.InvariantCulture, $"the version's destruction waiting period ended at {due:O}")
                        : string.Create(CultureInfo.InvariantCulture, $"the key's destruction waiting period ended at {key.DestroysAt:O}"),
                };

                // Fail closed: no record, no destruction (AuditUnavailableException leaves this lambda).
                await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);
                bool existed;
                try
                {
                    var backend = backends.Find(stored.Backend)
                        ?? throw new CryptoException($"No '{stored.Backend}' backend is configured on this node.");
                    // Empty material: erased by an earlier pass that stopped before recording the state.
                    existed = stored.Material.Length > 0 && backend.DestroyKeyMaterial(keyId, version, stored.Material);
                    await storage.Keys.DestroyVersionAsync(keyId, version, stored.Lifecycle, now, KeyVersion.SystemActor, ct);
                }
                catch (Exception e) when (e is CryptoException or CryptoBackendUnavailableException or Coffer.Storage.ConflictException)
                {
                    // These messages name objects and causes, never material (their contracts).
                    Log.VersionNotDestroyed(logger, keyId, version, e.Message);
                    await TryAuditAsync(record with { Outcome = AuditOutcome.Error, ErrorName = "Destruction failed", Reason = e.Message }, ct);
                    return Result.Failed;
                }

                await TryAuditAsync(record with
                {
                    Details = record.Details + (stored.Backend == "software"
                        ? "; wrapped material erased"
                        : existed ? $"; {stored.Backend} object destroyed" : $"; {stored.Backend} object was already gone"),
                }, ct);
                Log.VersionDestroyed(logger, keyId, version);
                return Result.Done;
            }, ct);
        }
        catch (SealedException)
        {
            return Result.Stop;
        }
        catch (AuditUnavailableException e)
        {
            Log.NotAudited(logger, keyId, version, e);
            return Result.Stop;
        }
    }

    /// <summary>Writes a record; false (logged) when the audit log is down.</summary>
    private async Task<bool> TryAuditAsync(AuditEvent record, CancellationToken ct)
    {
        try
        {
            await audit.AppendAsync(record, ct);
            return true;
        }
        catch (AuditUnavailableException e)
        {
            Log.NotAudited(logger, record.KeyId ?? "-", record.KeyVersion ?? 0, e);
            return false;
        }
    }

    private enum Result
    {
        Done,
        Failed,
        Stop,
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6501, Level = LogLevel.Information, Message = "Version {Version} of key {KeyId} destroyed: its waiting period ended")]
        public static partial void VersionDestroyed(ILogger logger, string keyId, int version);

        [LoggerMessage(EventId = 6502, Level = LogLevel.Information, Message = "Key {KeyId} destroyed: every version's material is gone")]
        public static partial void KeyDestroyed(ILogger logger, string keyId);

        [LoggerMessage(EventId = 6503, Level = LogLevel.Error, Message = "Version {Version} of key {KeyId} is due for destruction but could not be destroyed ({Reason}); the next sweep retries")]
        public static partial void VersionNotDestroyed(ILogger logger, string keyId, int version, string reason);

        [LoggerMessage(EventId = 6504, Level = LogLevel.Error, Message = "The audit log could not record the destruction of key {KeyId} version {Version}; nothing more is destroyed until it can")]
        public static partial void NotAudited(ILogger logger, string keyId, int version, Exception exception);
    }
}
