using System.Collections.Frozen;
using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.KeyStores;

namespace Coffer.Server.KeyRing;

/// <summary>
/// An immutable snapshot of everything the XKS hot path needs: key stores by prefix, their live
/// SigV4 secrets and their keys with opened material. Built from storage on unseal and after every
/// management change, then swapped in atomically, so requests read it without locks or I/O
/// (docs/design.md, "Performance budget").
/// </summary>
internal sealed class KeyRingSnapshot : IDisposable
{
    private readonly FrozenDictionary<string, KeyStoreEntry> _byPrefix;
    private readonly FrozenDictionary<string, KeyStoreEntry>.AlternateLookup<ReadOnlySpan<char>> _byPrefixSpan;

    public KeyRingSnapshot(IEnumerable<KeyStoreEntry> stores)
    {
        _byPrefix = stores.ToFrozenDictionary(s => s.KeyStore.Prefix.Value, StringComparer.Ordinal);
        _byPrefixSpan = _byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public static KeyRingSnapshot Empty { get; } = new([]);

    public int KeyStoreCount => _byPrefix.Count;

    public IEnumerable<KeyStoreEntry> KeyStores => _byPrefix.Values;

    public KeyStoreEntry? FindByPrefix(ReadOnlySpan<char> prefix) =>
        _byPrefixSpan.TryGetValue(prefix, out var entry) ? entry : null;

    /// <summary>Zeroes secrets and disposes the opened keys that <paramref name="next"/> does not reuse.</summary>
    public void DisposeExcept(KeyRingSnapshot? next)
    {
        var kept = next is null
            ? new HashSet<IAeadKey>()
            : next._byPrefix.Values.SelectMany(s => s.Keys.Values).SelectMany(k => k.Versions.Values).ToHashSet();
        foreach (var store in _byPrefix.Values)
        {
            store.ZeroSecrets();
            foreach (var version in store.Keys.Values.SelectMany(k => k.Versions.Values))
            {
                if (!kept.Contains(version))
                {
                    version.Dispose();
                }
            }
        }
    }

    public void Dispose() => DisposeExcept(null);
}

/// <summary>A key store as the hot path sees it.</summary>
internal sealed class KeyStoreEntry(KeyStore keyStore, FrozenDictionary<string, byte[]> secrets, FrozenDictionary<string, KeyEntry> keys)
{
    private readonly FrozenDictionary<string, KeyEntry>.AlternateLookup<ReadOnlySpan<char>> _keys = keys.GetAlternateLookup<ReadOnlySpan<char>>();

    public KeyStore KeyStore { get; } = keyStore;

    public FrozenDictionary<string, KeyEntry> Keys { get; } = keys;

    /// <summary>The UTF-8 secret of a live credential, or false for an unknown access key id.</summary>
    public bool TryGetSecret(string accessKeyId, out ReadOnlyMemory<byte> secret)
    {
        var found = secrets.TryGetValue(accessKeyId, out var bytes);
        secret = bytes;
        return found;
    }

    public KeyEntry? FindKey(ReadOnlySpan<char> externalId) => _keys.TryGetValue(externalId, out var key) ? key : null;

    internal void ZeroSecrets()
    {
        foreach (var secret in secrets.Values)
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}

/// <summary>A key with its usable versions, opened by the crypto backend.</summary>
/// <remarks>
/// What a version may do is decided per call from its <see cref="VersionLifecycle"/> and the caller's
/// clock (<see cref="VersionLifecycle.CanEncryptAt"/>), not at load time: an activation or expiry
/// instant passes without a reload, and a change made through the API reloads the ring at once.
/// </remarks>
internal sealed class KeyEntry
{
    private readonly VersionLifecycle? _currentLifecycle;
    private readonly IAeadKey? _current;

    public KeyEntry(ManagedKey key, FrozenDictionary<int, IAeadKey> versions, FrozenDictionary<int, VersionLifecycle> lifecycles, FrozenSet<int> broken)
    {
        Key = key;
        Versions = versions;
        Lifecycles = lifecycles;
        Broken = broken;
        // Looked up once here so an encrypt does no dictionary lookup.
        _currentLifecycle = lifecycles.GetValueOrDefault(key.CurrentVersion);
        _current = versions.GetValueOrDefault(key.CurrentVersion);
    }

    public ManagedKey Key { get; }

    /// <summary>Opened material of every version that may encrypt or decrypt without another write.</summary>
    public FrozenDictionary<int, IAeadKey> Versions { get; }

    /// <summary>Every stored version's lifecycle, opened or not.</summary>
    public FrozenDictionary<int, VersionLifecycle> Lifecycles { get; }

    /// <summary>Versions that should be usable but whose stored material could not be opened.</summary>
    public FrozenSet<int> Broken { get; }

    /// <summary>Whether the current version may encrypt at <paramref name="now"/> (it may still be broken).</summary>
    public bool CurrentCanEncryptAt(DateTimeOffset now) => _currentLifecycle?.CanEncryptAt(now) == true;

    /// <summary>The current version's material if it may encrypt at <paramref name="now"/>.</summary>
    public IAeadKey? CurrentForEncryptAt(DateTimeOffset now) => CurrentCanEncryptAt(now) ? _current : null;

    /// <summary>The material of <paramref name="version"/> if it may decrypt at <paramref name="now"/>: not
    /// destroyed or awaiting destruction, Active or Deactivated, or Compromised on a key that allows it.</summary>
    public IAeadKey? ForDecryptAt(int version, DateTimeOffset now) =>
        Lifecycles.TryGetValue(version, out var lifecycle) && lifecycle.CanDecryptAt(now, Key.CompromisedMayDecrypt)
            ? Versions.GetValueOrDefault(version)
            : null;
}
