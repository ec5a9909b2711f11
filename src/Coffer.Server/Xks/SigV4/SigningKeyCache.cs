using System.Security.Cryptography;

namespace Coffer.Server.Xks.SigV4;

/// <summary>
/// A small bounded cache of derived SigV4 signing keys per (access key id, scope date, region), so a
/// verification costs one HMAC instead of five (the XKS hot path). Thread-safe.
/// </summary>
/// <remarks>
/// An entry also keeps the secret it was derived from and is used only when the caller's current
/// secret is byte-for-byte the same, so a credential whose secret changes under the same id (XKS
/// spec: changes take effect without restart) can never verify with a stale key. The verifier adds
/// entries only after a signature verified, so unauthenticated callers cannot churn the cache by
/// varying the region. Evicted keys and secrets are zeroed (style: secrets live briefly); entries
/// for earlier dates go as soon as a later date is added, because a date is valid for at most
/// 5 minutes past midnight (XKS spec: 5-minute skew).
/// </remarks>
internal sealed class SigningKeyCache(int capacity)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Scope, Entry> _entries = new(capacity);

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Copies the cached key to <paramref name="destination"/> if present and derived from <paramref name="secret"/>.</summary>
    public bool TryGet(string accessKeyId, string date, string region, ReadOnlySpan<byte> secret, Span<byte> destination)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(new Scope(accessKeyId, date, region), out var entry)
                || !CryptographicOperations.FixedTimeEquals(entry.Secret, secret))
            {
                return false;
            }

            entry.Key.CopyTo(destination);
            return true;
        }
    }

    public void Add(string accessKeyId, string date, string region, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> key)
    {
        var scope = new Scope(accessKeyId, date, region);
        var entry = new Entry(secret.ToArray(), key.ToArray());
        lock (_lock)
        {
            List<Scope>? stale = null;
            foreach (var (existing, _) in _entries)
            {
                if (string.CompareOrdinal(existing.Date, date) < 0 || existing == scope)
                {
                    (stale ??= []).Add(existing);
                }
            }

            if (stale is not null)
            {
                foreach (var old in stale)
                {
                    Remove(old);
                }
            }

            if (_entries.Count >= capacity)
            {
                foreach (var (_, old) in _entries)
                {
                    old.Zero();
                }

                _entries.Clear();
            }

            _entries[scope] = entry;
        }
    }

    private void Remove(Scope scope)
    {
        if (_entries.Remove(scope, out var old))
        {
            old.Zero();
        }
    }

    private readonly record struct Scope(string AccessKeyId, string Date, string Region);

    private sealed class Entry(byte[] secret, byte[] key)
    {
        public byte[] Secret { get; } = secret;

        public byte[] Key { get; } = key;

        public void Zero()
        {
            CryptographicOperations.ZeroMemory(Secret);
            CryptographicOperations.ZeroMemory(Key);
        }
    }
}
