using System.Collections.Concurrent;
using Coffer.Server.Hosting;
using Coffer.Storage;

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
/// which only errs on the safe side (at the default, a block is 2^-12 of the limit).
/// </remarks>
internal sealed class EncryptionBudgets(ICofferStorage storage, XksListenerOptions options)
{
    private const long LargestBlock = 1 << 20;

    private readonly ConcurrentDictionary<(string KeyId, int Version), Budget> _budgets = new();
    private readonly ICofferStorage _storage = storage;
    private readonly long _limit = options.MaxEncryptionsPerKeyVersion;
    private readonly long _block = Math.Clamp(options.MaxEncryptionsPerKeyVersion / 64, 1, LargestBlock);

    /// <summary>Takes one encryption from the version's budget: true when it may be made, false when the
    /// version has made all it may. Waits for the database only when this node has none reserved.</summary>
    /// <exception cref="Exception">The reservation could not be written (the call fails closed).</exception>
    public ValueTask<bool> TakeAsync(string keyId, int version, CancellationToken ct) =>
        _budgets.GetOrAdd((keyId, version), static (id, self) => new Budget(self, id.KeyId, id.Version), this).TakeAsync(ct);

    private sealed class Budget(EncryptionBudgets owner, string keyId, int version)
    {
        private readonly Lock _gate = new();
        private long _taken;
        private long _reserved;
        private bool _exhausted;
        private Task? _reserving;

        public ValueTask<bool> TakeAsync(CancellationToken ct)
        {
            var taken = Interlocked.Increment(ref _taken);
            var reserved = Volatile.Read(ref _reserved);
            if (taken <= reserved)
            {
                if (reserved - taken < owner._block / 2)
                {
                    _ = Reserve();
                }

                return ValueTask.FromResult(true);
            }

            return WaitAsync(taken, ct);
        }

        private async ValueTask<bool> WaitAsync(long taken, CancellationToken ct)
        {
            while (taken > Volatile.Read(ref _reserved))
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
            var granted = await owner._storage.Keys.ReserveEncryptionsAsync(keyId, version, owner._block, owner._limit, CancellationToken.None);
            if (granted == 0)
            {
                Volatile.Write(ref _exhausted, true);
            }
            else
            {
                Interlocked.Add(ref _reserved, granted);
            }
        }
    }
}
