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
internal sealed class KeyEntry(ManagedKey key, FrozenDictionary<int, IAeadKey> versions, FrozenDictionary<int, KeyVersionState> states, FrozenSet<int> broken)
{
    public ManagedKey Key { get; } = key;

    /// <summary>Opened material of every version that may still encrypt or decrypt.</summary>
    public FrozenDictionary<int, IAeadKey> Versions { get; } = versions;

    public FrozenDictionary<int, KeyVersionState> States { get; } = states;

    /// <summary>Versions that should be usable but whose stored material could not be opened.</summary>
    public FrozenSet<int> Broken { get; } = broken;

    public IAeadKey? CurrentForEncrypt =>
        States.TryGetValue(Key.CurrentVersion, out var state) && state == KeyVersionState.Active
            ? Versions.GetValueOrDefault(Key.CurrentVersion)
            : null;
}
