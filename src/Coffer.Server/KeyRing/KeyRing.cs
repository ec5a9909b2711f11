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
/// <remarks>
/// A request holds the snapshot it started with until it has answered (<see cref="TryAcquire"/>,
/// <see cref="Release"/>). A replaced snapshot is retired, and its secrets are zeroed and its unused
/// keys disposed only when the last request holding it ends: zeroing at the swap made a call whose
/// body was still arriving verify its signature against a zeroed secret and fail authentication.
/// </remarks>
internal sealed class KeyRingSnapshot
{
    private readonly FrozenDictionary<string, KeyStoreEntry> _byPrefix;
    private readonly FrozenDictionary<string, KeyStoreEntry>.AlternateLookup<ReadOnlySpan<char>> _byPrefixSpan;

    // 1 for the seal manager (released by Retire) plus 1 per request holding it; 0: retired and zeroed.
    private int _references = 1;
    private HashSet<IAeadKey>? _keptBySuccessor;

    public KeyRingSnapshot(IEnumerable<KeyStoreEntry> stores)
    {
        _byPrefix = stores.ToFrozenDictionary(s => s.KeyStore.Prefix.Value, StringComparer.Ordinal);
        _byPrefixSpan = _byPrefix.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>A ring with no key store (sealed).</summary>
    public static KeyRingSnapshot CreateEmpty() => new([]);

    /// <summary>Requests holding it, plus 1 until it is retired (tests watch a request take it).</summary>
    internal int References => Volatile.Read(ref _references);

    public int KeyStoreCount => _byPrefix.Count;

    public IEnumerable<KeyStoreEntry> KeyStores => _byPrefix.Values;

    public KeyStoreEntry? FindByPrefix(ReadOnlySpan<char> prefix) =>
        _byPrefixSpan.TryGetValue(prefix, out var entry) ? entry : null;

    /// <summary>Takes a reference for one request; false once it was retired and every holder let go
    /// (the caller then reads the current ring again: its successor is already in place).</summary>
    public bool TryAcquire()
    {
        var seen = Volatile.Read(ref _references);
        while (seen > 0)
        {
            var before = Interlocked.CompareExchange(ref _references, seen + 1, seen);
            if (before == seen)
            {
                return true;
            }

            seen = before;
        }

        return false;
    }

    /// <summary>Gives back a reference from <see cref="TryAcquire"/> (or, through <see cref="Retire"/>, the owner's).</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            ZeroAndDispose();
        }
    }

    /// <summary>Takes it out of service: once no request holds it, its secrets are zeroed and the
    /// opened keys that <paramref name="next"/> does not reuse are disposed (all of them for null).</summary>
    public void Retire(KeyRingSnapshot? next)
    {
        _keptBySuccessor = next is null
            ? []
            : next._byPrefix.Values.SelectMany(s => s.Keys.Values).SelectMany(k => k.Versions.Values).ToHashSet();
        Release();
    }

    private void ZeroAndDispose()
    {
        var kept = _keptBySuccessor ?? [];
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
    private readonly int _predecessor;
    private readonly VersionLifecycle? _predecessorLifecycle;
    private readonly IAeadKey? _predecessorKey;

    public KeyEntry(ManagedKey key, FrozenDictionary<int, IAeadKey> versions, FrozenDictionary<int, VersionLifecycle> lifecycles, FrozenSet<int> broken)
    {
        Key = key;
        Versions = versions;
        Lifecycles = lifecycles;
        Broken = broken;
        // Looked up once here so an encrypt does no dictionary lookup.
        _currentLifecycle = lifecycles.GetValueOrDefault(key.CurrentVersion);
        _current = versions.GetValueOrDefault(key.CurrentVersion);
        // A rotation with an activation time: the version it replaces encrypts until then.
        _predecessor = Handover.PredecessorOf(key.CurrentVersion, lifecycles);
        _predecessorLifecycle = lifecycles.GetValueOrDefault(_predecessor);
        _predecessorKey = versions.GetValueOrDefault(_predecessor);
    }

    public ManagedKey Key { get; }

    /// <summary>Opened material of every version that may encrypt or decrypt without another write.</summary>
    public FrozenDictionary<int, IAeadKey> Versions { get; }

    /// <summary>Every stored version's lifecycle, opened or not.</summary>
    public FrozenDictionary<int, VersionLifecycle> Lifecycles { get; }

    /// <summary>Versions that should be usable but whose stored material could not be opened.</summary>
    public FrozenSet<int> Broken { get; }

    /// <summary>
    /// The version that encrypts at <paramref name="now"/> (<see cref="Handover.EncryptingVersionAt"/>,
    /// without its lookups): the current one, or while the current one waits for its activation time,
    /// the Active version it replaces. Null when none may encrypt (not yet active, expired,
    /// deactivated, compromised or awaiting destruction).
    /// </summary>
    public int? EncryptingVersionAt(DateTimeOffset now) =>
        _currentLifecycle?.CanEncryptAt(now) == true ? Key.CurrentVersion
        : _predecessorLifecycle?.CanEncryptAt(now) == true ? _predecessor
        : null;

    /// <summary>The material of <paramref name="version"/> (from <see cref="EncryptingVersionAt"/>);
    /// null when its stored material could not be opened.</summary>
    public IAeadKey? ForEncrypt(int version) => version == Key.CurrentVersion ? _current : version == _predecessor ? _predecessorKey : null;

    /// <summary>The material of <paramref name="version"/> if it may decrypt at <paramref name="now"/>: not
    /// destroyed or awaiting destruction, Active or Deactivated, or Compromised on a key that allows it.</summary>
    public IAeadKey? ForDecryptAt(int version, DateTimeOffset now) =>
        Lifecycles.TryGetValue(version, out var lifecycle) && lifecycle.CanDecryptAt(now, Key.CompromisedMayDecrypt)
            ? Versions.GetValueOrDefault(version)
            : null;
}
