using System.Globalization;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Audit;
using Coffer.Server.Seal;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// Destroys key material whose waiting period is over (docs/design.md, "Lifecycle"): every
/// version whose own destruction is due, and every version of a key whose whole-key destruction is
/// due, after which the key becomes a tombstone. Runs on the server's <see cref="TimeProvider"/> every
/// <see cref="Interval"/>, and does nothing while Coffer is sealed (it needs the backends).
/// </summary>
/// <remarks>
/// <para>Per version, under the seal's change lock: check it is still due (a cancel may have come
/// first), write a <c>requested</c> audit record with the system as actor — fail closed: if it cannot
/// be written nothing is destroyed and the sweep stops until the next tick — then destroy what the
/// material refers to in its backend (an HSM object: C_DestroyObject), then mark the version Destroyed
/// and erase its stored material, then record the outcome. The key ring is rebuilt at once, so no
/// opened copy outlives the change.</para>
/// <para>The change only overwrites the material in its row. Copies of the page that held it stay in
/// the database file and WAL until a truncating checkpoint, which waits for readers of older snapshots
/// while holding SQLite's write lock; so it runs after the destructions, outside the change lock, and
/// gives up after a moment rather than stall the audit writer, to be retried by the next sweep
/// (<see cref="Coffer.Storage.IKeyRepository.CompleteErasureAsync"/>; docs/architecture.md).</para>
/// <para>Idempotent: a sweep that stops between the HSM and the database finds the version due again
/// next time, and the backend reports the object already gone rather than failing.</para>
/// <para>Only the cluster's leader runs this (docs/cluster.md). Should two nodes ever overlap at a change
/// of leader, each would find the same due version, and the compare-and-set in storage lets only one
/// record it.</para>
/// </remarks>
internal sealed partial class DestructionSweeper(SealManager seal, AuditLog audit, TimeProvider time, Cluster.Leadership leadership, ILogger<DestructionSweeper> logger) : BackgroundService
{
    /// <summary>How often the sweeper looks. Waiting periods are days; a minute late is nothing.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly List<(DateTimeOffset Instant, TaskCompletionSource Done)> _waiters = [];
    private DateTimeOffset? _lastSweep;

    /// <summary>Completes once a sweep that began at or after <paramref name="instant"/> (server time)
    /// has finished, done nothing (sealed) or failed. Lets tests drive the sweeper with a fake clock
    /// instead of sleeping.</summary>
    public Task SweptAsync(DateTimeOffset instant)
    {
        lock (_gate)
        {
            if (_lastSweep >= instant)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((instant, done));
            return done.Task;
        }
    }

    /// <summary>Only on the cluster's leader; a node that becomes the leader sweeps at once.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => leadership.RunWhileLeaderAsync(RunAsync, stoppingToken);

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: the first sweep runs at once, but not inside StartAsync.
        await Task.Yield();
        DateTimeOffset? last = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // From the last sweep's start, not from now: a clock that jumped (a fake one in tests, or
                // a machine that slept) sweeps at once instead of waiting a further interval.
                var wait = last is { } previous ? previous + Interval - time.GetUtcNow() : TimeSpan.Zero;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                    await Coalesce.MissedTicks();
                }

                var now = time.GetUtcNow();
                last = now;
                try
                {
                    await SweepAsync(now, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Storage trouble: nothing was half-done that the next sweep will not redo.
                    Log.SweepFailed(logger, e.GetType().Name, e);
                }

                Swept(now);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over everything due at <paramref name="now"/>, then the erasure of what was
    /// destroyed, outside the change lock.</summary>
    internal async Task SweepAsync(DateTimeOffset now, CancellationToken ct)
    {
        await DestroyDueAsync(now, ct);

        // Also while sealed: it needs no key, and a destruction may be waiting for it since an earlier
        // sweep (a reader held an old snapshot) or an earlier process.
        if (!await seal.Storage.Keys.CompleteErasureAsync(ct))
        {
            Log.ErasureHeldBack(logger, Interval);
        }
    }

    private async Task DestroyDueAsync(DateTimeOffset now, CancellationToken ct)
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
        var record = new AuditEvent
        {
            Action = AuditActions.KeyDestroy,
            ActorKind = AuditActorKinds.System,
            ActorId = KeyVersion.SystemActor,
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
                    // Cancelled (or already destroyed) since the sweep listed it.
                    return Result.Done;
                }

                var record = new AuditEvent
                {
                    Action = AuditActions.KeyVersionDestroy,
                    ActorKind = AuditActorKinds.System,
                    ActorId = KeyVersion.SystemActor,
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
                    // Empty material: erased by an earlier sweep that stopped before recording the state.
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

    private void Swept(DateTimeOffset at)
    {
        lock (_gate)
        {
            _lastSweep = at;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Instant <= at)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
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

        [LoggerMessage(EventId = 6505, Level = LogLevel.Error, Message = "A destruction sweep failed with {ExceptionType}; the next one retries")]
        public static partial void SweepFailed(ILogger logger, string exceptionType, Exception exception);

        [LoggerMessage(EventId = 6506, Level = LogLevel.Warning, Message = "Destroyed key material may still be in the database's files: a reader of an older snapshot or a busy writer kept the checkpoint from erasing it; the next sweep retries in {Interval}")]
        public static partial void ErasureHeldBack(ILogger logger, TimeSpan interval);
    }
}
