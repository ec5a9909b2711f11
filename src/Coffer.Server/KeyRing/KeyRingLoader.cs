using System.Collections.Frozen;
using System.Text;
using Coffer.Crypto;
using Coffer.Keys;
using Coffer.Storage;

namespace Coffer.Server.KeyRing;

/// <summary>Builds a <see cref="KeyRingSnapshot"/> from storage, reusing keys already opened.</summary>
internal static class KeyRingLoader
{
    public static async Task<KeyRingSnapshot> LoadAsync(ICofferStorage storage, ICryptoBackend backend, MasterKey master, KeyRingSnapshot previous, CancellationToken ct)
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
                secrets[credential.AccessKeyId] = master.Open(SealPurpose.SigV4Secret, credential.AccessKeyId, credential.SealedSecret);
            }

            var storeKeys = new Dictionary<string, KeyEntry>(StringComparer.Ordinal);
            foreach (var (key, versions) in keys.Where(k => k.Key.KeyStoreId == store.Id))
            {
                var usable = new Dictionary<int, IAeadKey>();
                foreach (var version in versions.Where(v => v.CanDecrypt || v.CanEncrypt))
                {
                    usable[version.Version] = opened.TryGetValue((key.Id, version.Version), out var existing)
                        ? existing
                        : backend.OpenKey(key.Id, version.Version, version.Material);
                }

                storeKeys[key.ExternalId] = new KeyEntry(
                    key,
                    usable.ToFrozenDictionary(),
                    versions.ToFrozenDictionary(v => v.Version, v => v.State));
            }

            entries.Add(new KeyStoreEntry(store, secrets.ToFrozenDictionary(StringComparer.Ordinal), storeKeys.ToFrozenDictionary(StringComparer.Ordinal)));
        }

        return new KeyRingSnapshot(entries);
    }

    /// <summary>The secret bytes SigV4 derives its signing key from.</summary>
    public static byte[] SecretBytes(string secretAccessKey) => Encoding.UTF8.GetBytes(secretAccessKey);
}
