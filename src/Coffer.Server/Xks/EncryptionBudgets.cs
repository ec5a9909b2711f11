using System.Collections.Concurrent;
using System.Globalization;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Xks;

/// <summary>
/// How many more encryptions each key version may make. Coffer draws a random 96-bit IV for every
/// AES-GCM encryption (in software and in the HSM), and NIST SP 800-38D (8.3) allows at most 2^32
/// invocations per key with random IVs; past that, the chance of an IV repeating — which breaks
/// GCM's confidentiality and authenticity — is no longer negligible. A version that has made its
/// <see cref="XksListenerOptions.MaxEncryptionsPerKeyVersion"/> encryptions answers InvalidStateException
/// for encrypt (decrypt goes on): rotating the key gives encryptions a fresh version.
/// </summary>
/// <remarks>
/// Counting must survive restarts without a database write per call (docs/design.md, "Performance
/// budget"): a node reserves blocks of encryptions in the database
/// (<see cref="IKeyRepository.ReserveEncryptionsAsync"/>) and counts them off in memory, reserving the
/// next block in the background when half of one is left. A stop loses what was reserved and unused,
/// which only errs on the safe side (at the default, a block is 2^-12 of the limit). A call that fails
/// after taking an encryption, before its ciphertext is answered, gives it back (<see cref="Return"/>),
/// so transient faults under load (an audit batch that timed out) cost the version nothing.
/// </remarks>
internal sealed partial class EncryptionBudgets(ICofferStorage storage, AuditLog audit, XksListenerOptions options, ILogger<EncryptionBudgets> logger)
{
    /// <summary>The audit action (and alert event) of a version whose reservations pass a share of the limit.</summary>
    public const string WarningAction = "key.version.encryption-warning";

    private const long LargestBlock = 1 << 20;

    /// <summary>Shares of the limit that warn, in percent: once each per version, by the node whose
    /// reservation passes it (the reserving transaction decides, so nodes never repeat each other).</summary>
    private static readonly int[] WarningPercents = [50, 75, 90, 100];

    private readonly ConcurrentDictionary<(string KeyId, int Version), Budget> _budgets = new();
    private readonly ICofferStorage _storage = storage;
    private readonly long _limit = options.MaxEncryptionsPerKeyVersion;
    private readonly long _block = Math.Clamp(options.MaxEncryptionsPerKeyVersion / 64, 1, LargestBlock);

    /// <summary>Takes one encryption from the version's budget: true when it may be made, false when the
    /// version has made all it may. Waits for the database only when this node has none reserved.</summary>
    /// <exception cref="Exception">The reservation could not be written (the call fails closed).</exception>
    public ValueTask<bool> TakeAsync(string keyId, int version, CancellationToken ct) =>
        _budgets.GetOrAdd((keyId, version), static (id, self) => new Budget(self, id.KeyId, id.Version), this).TakeAsync(ct);

    /// <summary>Gives back an encryption taken with <see cref="TakeAsync"/> whose ciphertext never left
    /// this node (its audit record could not be written, or the encryption itself failed): an IV that no
    /// one ever saw cannot collide with one that someone did, so it need not count. Without this, every
    /// call refused for a transient fault would shrink the version's budget for good.</summary>
    public void Return(string keyId, int version)
    {
        if (_budgets.TryGetValue((keyId, version), out var budget))
        {
            budget.Return();
        }
    }

    /// <summary>The share (0..1) of its limit that the version had reserved, across the cluster, at this
    /// node's last reservation for it; 0 when this node reserved none (metrics: no read of its own).</summary>
    public double ShareReserved(string keyId, int version) =>
        _budgets.TryGetValue((keyId, version), out var budget) ? Math.Min(1.0, (double)budget.TotalReserved / _limit) : 0;

    /// <summary>One audit record (so one alert) for each warning share a reservation passed. Never fails
    /// the reservation: the encryptions are reserved already; a warning the audit log cannot take is logged.</summary>
    private async Task WarnAsync(string keyId, int version, EncryptionReservation reservation)
    {
        foreach (var percent in WarningPercents)
        {
            var mark = (long)Math.Ceiling(_limit * (percent / 100.0));
            if (reservation.Total - reservation.Granted >= mark || reservation.Total < mark)
            {
                continue;
            }

            try
            {
                await audit.AppendAsync(new AuditEvent
                {
                    Action = WarningAction,
                    ActorKind = AuditActorKinds.System,
                    KeyStore = (await _storage.Keys.GetKeyAsync(keyId, CancellationToken.None))?.KeyStoreId,
                    KeyId = keyId,
                    KeyVersion = version,
                    Details = percent == 100
                        ? string.Create(CultureInfo.InvariantCulture, $"version {version} has reserved all {_limit} encryptions it may make (NIST SP 800-38D, random IVs): it encrypts no more once they are spent; rotate the key")
                        : string.Create(CultureInfo.InvariantCulture, $"version {version} has reserved {reservation.Total} of its {_limit} encryptions ({percent} % or more); rotate the key before they run out"),
                }, CancellationToken.None);
            }
            catch (AuditUnavailableException e)
            {
                Log.WarningNotAudited(logger, keyId, version, percent, e);
            }
        }
    }

    private sealed class Budget(EncryptionBudgets owner, string keyId, int version)
    {
        private readonly Lock _gate = new();
        private long _available;
        private bool _exhausted;
        private Task? _reserving;
        private long _totalReserved;

        /// <summary>The version's reservations across the cluster after this node's last one.</summary>
        public long TotalReserved => Volatile.Read(ref _totalReserved);

        public ValueTask<bool> TakeAsync(CancellationToken ct)
        {
            if (TryTake())
            {
                if (Volatile.Read(ref _available) < owner._block / 2)
                {
                    _ = Reserve();
                }

                return ValueTask.FromResult(true);
            }

            return WaitAsync(ct);
        }

        public void Return() => Interlocked.Increment(ref _available);

        // One of this node's reserved encryptions, if any is left. A count of what is left rather than a
        // ticket per call: a call that fails (its reservation could not be written, it was cancelled, or
        // it gave its encryption back) leaves no gap that a later call cannot fill.
        private bool TryTake()
        {
            var available = Volatile.Read(ref _available);
            while (available > 0)
            {
                var seen = Interlocked.CompareExchange(ref _available, available - 1, available);
                if (seen == available)
                {
                    return true;
                }

                available = seen;
            }

            return false;
        }

        private async ValueTask<bool> WaitAsync(CancellationToken ct)
        {
            while (!TryTake())
            {
                if (Volatile.Read(ref _exhausted))
                {
                    return false;
                }

                await Reserve().WaitAsync(ct);
            }

            return true;
        }

        // One reservation at a time per version; a failed one leaves the next call to try again.
        private Task Reserve()
        {
            lock (_gate)
            {
                if (_reserving is { IsCompleted: false } running)
                {
                    return running;
                }

                return _exhausted ? Task.CompletedTask : _reserving = ReserveAsync();
            }
        }

        private async Task ReserveAsync()
        {
            // Off the caller's thread and out of the gate at once: SQLite's transaction waits for its write
            // lock synchronously, and the call that asked for the next block in the background has its own
            // encryption already (it waited up to the 30 s busy timeout while the file was locked).
            await Task.Yield();
            var reservation = await owner._storage.Keys.ReserveEncryptionsAsync(keyId, version, owner._block, owner._limit, CancellationToken.None);
            Volatile.Write(ref _totalReserved, reservation.Total);
            if (reservation.Granted == 0)
            {
                Volatile.Write(ref _exhausted, true);
                return;
            }

            Interlocked.Add(ref _available, reservation.Granted);
            await owner.WarnAsync(keyId, version, reservation);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Warning, Message = "Version {Version} of key {KeyId} passed {Percent} % of its encryptions and the audit log could not record the warning")]
        public static partial void WarningNotAudited(ILogger logger, string keyId, int version, int percent, Exception exception);
    }
}
