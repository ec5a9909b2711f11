using System.Collections.Frozen;
using System.Text;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.KeyRing;

/// <summary>Builds a <see cref="KeyRingSnapshot"/> from storage, reusing keys already opened.</summary>
internal static partial class KeyRingLoader
{
    /// <remarks>
    /// One unusable row (tampered or corrupt) must not take every key store down: a credential
    /// whose secret cannot be opened is left out (calls signed with it fail authentication), and a
    /// version whose material cannot be opened is marked broken (calls that need it answer
    /// InternalException). Both are logged as errors.
    /// </remarks>
    public static async Task<KeyRingSnapshot> LoadAsync(ICofferStorage storage, CryptoBackends backends, MasterKeyGenerations master, KeyRingSnapshot previous, ILogger logger, CancellationToken ct)
    {
        var stores = await storage.KeyStores.ListKeyStoresAsync(ct);
        var credentials = await storage.KeyStores.ListCredentialsAsync(null, ct);
        var keys = await storage.Keys.LoadAllAsync(ct);

        // Material already opened for the same key version is reused rather than unwrapped again.
        var opened = previous.KeyStores
            .SelectMany(s => s.Keys.Values)
            .SelectMany(k => k.Versions.Select(v => (Id: (k.Key.Id, v.Key), Key: v.Value)))
            .ToDictionary(x => x.Id, x => x.Key);

        var entries = new List<KeyStoreEntry>(stores.Count);
        foreach (var store in stores)
        {
            var secrets = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var credential in credentials.Where(c => c.KeyStoreId == store.Id && c.IsLive))
            {
                try
                {
                    secrets[credential.AccessKeyId] = master.Open(SealPurpose.SigV4Secret, credential.AccessKeyId, credential.SealedSecret);
                }
                catch (CryptoException)
                {
                    Log.CredentialUnusable(logger, credential.Id, store.Name);
                }
            }

            var storeKeys = new Dictionary<string, KeyEntry>(StringComparer.Ordinal);
            // A destroyed key is not in the ring at all, so XKS answers KeyNotFoundException for it, as
            // for a key that never existed; its tombstone stays in storage.
            foreach (var (key, versions) in keys.Where(k => k.Key.KeyStoreId == store.Id && !k.Key.IsDestroyed))
            {
                var usable = new Dictionary<int, IAeadKey>();
                var broken = new HashSet<int>();
                foreach (var version in versions.Where(v => MayBeUsedWithoutAWrite(key, v)))
                {
                    if (opened.TryGetValue((key.Id, version.Version), out var existing))
                    {
                        usable[version.Version] = existing;
                        continue;
                    }

                    // Each version names the backend that made it, so a key store's versions could span backends.
                    var backend = backends.Find(version.Backend);
                    try
                    {
                        usable[version.Version] = backend?.OpenKey(key.Id, version.Version, version.Material)
                            ?? throw new CryptoException($"No '{version.Backend}' backend is configured on this node.");
                    }
                    catch (Exception e) when (e is CryptoException or CryptoBackendUnavailableException)
                    {
                        broken.Add(version.Version);
                        Log.KeyVersionUnusable(logger, key.Id, version.Version, store.Name);
                    }
                }

                storeKeys[key.ExternalId] = new KeyEntry(
                    key,
                    usable.ToFrozenDictionary(),
                    versions.ToFrozenDictionary(v => v.Version, v => v.Lifecycle),
                    broken.ToFrozenSet());
            }

            entries.Add(new KeyStoreEntry(store, secrets.ToFrozenDictionary(StringComparer.Ordinal), storeKeys.ToFrozenDictionary(StringComparer.Ordinal)));
        }

        return new KeyRingSnapshot(entries);
    }

    /// <summary>
    /// Whether a version's material is opened: it is if the version may encrypt or decrypt at some
    /// instant without another storage write (which would reload the ring anyway). A PreActive version
    /// is, since it starts at its activation time by the clock alone; a destroyed one, one awaiting
    /// destruction (or whose whole key is), and a Compromised one on a key that forbids it are not, so
    /// their material is not held in memory at all.
    /// </summary>
    private static bool MayBeUsedWithoutAWrite(ManagedKey key, KeyVersion version) =>
        version.DestroysAt is null && key.DestroysAt is null && version.State switch
        {
            KeyVersionState.Destroyed => false,
            KeyVersionState.Compromised => key.CompromisedMayDecrypt,
            _ => true,
        };

    private static partial class Log
    {
        [LoggerMessage(EventId = 1200, Level = LogLevel.Error, Message = "Credential {CredentialId} of key store {KeyStore} cannot be opened with the master key (corrupt or tampered); it is not accepted")]
        public static partial void CredentialUnusable(ILogger logger, string credentialId, string keyStore);

        [LoggerMessage(EventId = 1201, Level = LogLevel.Error, Message = "Version {Version} of key {KeyId} in key store {KeyStore} cannot be opened (corrupt or tampered material); calls that need it fail")]
        public static partial void KeyVersionUnusable(ILogger logger, string keyId, int version, string keyStore);
    }
}
