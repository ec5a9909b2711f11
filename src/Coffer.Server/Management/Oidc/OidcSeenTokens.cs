using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Coffer.Server.Management.Oidc;

/// <summary>
/// The identity-provider tokens this node has accepted, by SHA-256 and until they expire, so a login is
/// an <c>auth.login</c> audit record once per token rather than once per call. Bounded: past
/// <see cref="Capacity"/> live entries a token is not remembered, and its next use is recorded again
/// (more records, never fewer).
/// </summary>
/// <remarks>Thread-safe. Holds hashes only, never a token.</remarks>
internal sealed class OidcSeenTokens
{
    internal const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>Remembers <paramref name="token"/> until <paramref name="expiresAt"/>; true when it was
    /// not remembered yet (the caller records the login), false when it already was.</summary>
    public bool TryRemember(string token, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        var key = Key(token);
        if (_seen.TryGetValue(key, out var until) && until > now)
        {
            return false;
        }

        if (_seen.Count >= Capacity)
        {
            Purge(now);
        }

        if (_seen.Count >= Capacity)
        {
            return true;
        }

        // Two calls racing with one new token: only the one that adds it records the login.
        return _seen.TryAdd(key, expiresAt) || (_seen.TryGetValue(key, out until) && until <= now && _seen.TryUpdate(key, expiresAt, until));
    }

    /// <summary>Forgets <paramref name="token"/>, so its next use is recorded (its login record could not be written).</summary>
    public void Forget(string token) => _seen.TryRemove(Key(token), out _);

    internal int Count => _seen.Count;

    private void Purge(DateTimeOffset now)
    {
        foreach (var (key, until) in _seen)
        {
            if (until <= now)
            {
                _seen.TryRemove(key, out _);
            }
        }
    }

    private static string Key(string token) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
