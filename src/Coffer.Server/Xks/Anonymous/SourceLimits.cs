using System.Net;
using System.Net.Sockets;
using Coffer.Server.Hosting;

namespace Coffer.Server.Xks.Anonymous;

/// <summary>
/// The per-source limit before authentication: a token bucket of
/// <see cref="XksListenerOptions.UnauthenticatedPerSecondPerSource"/> per source address and key store
/// (or unknown prefix). Each request that fails before it authenticates takes a token; a source whose
/// bucket is empty is answered ThrottlingException there before any other work, signed or not, until it
/// refills (docs/architecture.md, "Anonymous traffic").
/// </summary>
/// <remarks>
/// <para>Keyed by key store as well, so that failures toward one key store (a credential AWS KMS still
/// uses after it was revoked) never throttle AWS KMS's calls to the others from the same addresses. An
/// IPv6 source counts by its /64, which one attacker usually holds whole.</para>
/// <para>Hand-written rather than System.Threading.RateLimiting's partitioned limiter: that one has no
/// bound on its partitions and no way to ask without taking. Memory is bounded by
/// <see cref="MaxSources"/>: when the table is full, buckets that have refilled are dropped (at most
/// once a second); if none has, a new source is not tracked until one does.</para>
/// </remarks>
internal sealed class SourceLimits(XksListenerOptions options, TimeProvider time)
{
    internal const int MaxSources = 10_000;

    /// <summary>How long a request over the limit waits for its 429 (wall-clock time). A closed-loop flood
    /// then sends at most four requests a second per connection, instead of as many as Coffer can answer.</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(250);

    private readonly int _rate = options.UnauthenticatedPerSecondPerSource;
    private readonly Lock _lock = new();
    private readonly Dictionary<SourceKey, Bucket> _buckets = [];
    private int _count; // _buckets.Count, readable without the lock
    private long _lastPrune;

    /// <summary>False while <paramref name="address"/> has spent its allowance at this key store.</summary>
    public bool Allows(IPAddress? address, string? keyStore)
    {
        if (_rate == 0 || address is null || Volatile.Read(ref _count) == 0)
        {
            return true;
        }

        var now = time.GetTimestamp();
        lock (_lock)
        {
            return !_buckets.TryGetValue(new SourceKey(Source(address), keyStore), out var bucket) || bucket.Refill(now, _rate, time) >= 1;
        }
    }

    /// <summary>Takes a token for a request from <paramref name="address"/> that failed before it authenticated.</summary>
    public void Spend(IPAddress? address, string? keyStore)
    {
        if (_rate == 0 || address is null)
        {
            return;
        }

        var key = new SourceKey(Source(address), keyStore);
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(key, out var bucket))
            {
                if (_buckets.Count >= MaxSources && !Prune(now))
                {
                    return;
                }

                bucket = new Bucket(_rate, now);
                _buckets.Add(key, bucket);
                Volatile.Write(ref _count, _buckets.Count);
            }

            bucket.Tokens = Math.Max(0, bucket.Refill(now, _rate, time) - 1);
        }
    }

    // Under _lock. True when it made room.
    private bool Prune(long now)
    {
        if (time.GetElapsedTime(_lastPrune, now) < TimeSpan.FromSeconds(1))
        {
            return false;
        }

        _lastPrune = now;
        foreach (var (key, bucket) in _buckets)
        {
            if (bucket.Refill(now, _rate, time) >= _rate)
            {
                _buckets.Remove(key);
            }
        }

        Volatile.Write(ref _count, _buckets.Count);
        return _buckets.Count < MaxSources;
    }

    private static IPAddress Source(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    private readonly record struct SourceKey(IPAddress Source, string? KeyStore);

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens { get; set; } = tokens;

        private long Stamp { get; set; } = stamp;

        /// <summary>Adds the tokens earned since the last look (at most <paramref name="rate"/>) and returns them.</summary>
        public double Refill(long now, int rate, TimeProvider time)
        {
            Tokens = Math.Min(rate, Tokens + (time.GetElapsedTime(Stamp, now).TotalSeconds * rate));
            Stamp = now;
            return Tokens;
        }
    }
}
