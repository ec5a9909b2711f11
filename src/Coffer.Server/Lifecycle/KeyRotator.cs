using Coffer.Keys;
using Coffer.Server.Keys;
using Coffer.Server.Seal;
using Coffer.Storage;

namespace Coffer.Server.Lifecycle;

/// <summary>
/// Rotating one key: a new version made by its key store's backend becomes the one that
/// encrypts and the previous one only decrypts. The single-key endpoint, bulk rotation and the
/// compromise move and the scheduled rotation (<see cref="ScheduledChangeService"/>) all rotate through here.
/// </summary>
internal static class KeyRotator
{
    /// <summary>
    /// Rotates <paramref name="keyId"/> if its current version is still <paramref name="expectedCurrentVersion"/>,
    /// under the seal's change lock (so the key ring serves the new version when this returns).
    /// </summary>
    /// <returns>False when the key does not exist.</returns>
    /// <exception cref="ConflictException">Another rotation came first, or the key is destroyed or
    /// waiting for destruction.</exception>
    /// <exception cref="SealedException">Coffer is sealed.</exception>
    /// <param name="activatesAt">A handover time: the new version is PreActive until then and the
    /// current one encrypts until then; null for a new version that encrypts at once.</param>
    public static Task<bool> RotateAsync(SealManager seal, string keyId, int expectedCurrentVersion, string actor, DateTimeOffset now,
        DateTimeOffset? activatesAt, CancellationToken ct) =>
        seal.ChangeAsync(async (backends, _) =>
            await RotateLockedAsync(seal.Storage, backends, keyId, expectedCurrentVersion, actor, now, claim: null, activatesAt, ct) is not null, ct);

    /// <summary>
    /// The rotation itself, for a caller already inside <see cref="SealManager.ChangeAsync{T}"/> (the
    /// scheduled rotation of <see cref="ScheduledChangeService"/>, which passes the <paramref name="claim"/> of its due time so storage records
    /// it in the rotation's own transaction).
    /// </summary>
    /// <returns>The new version's number, or null when the key does not exist.</returns>
    public static async Task<int?> RotateLockedAsync(ICofferStorage storage, CryptoBackends backends, string keyId, int expectedCurrentVersion, string actor,
        DateTimeOffset now, RotationClaim? claim, DateTimeOffset? activatesAt, CancellationToken ct)
    {
        // Checked again under the lock before the backend makes material, so a rotation that lost
        // on this node leaves no unused key in an HSM.
        var latest = await storage.Keys.GetKeyAsync(keyId, ct);
        if (latest is null)
        {
            return null;
        }

        if (KeyDestruction.Frozen(latest) is { } refusal)
        {
            throw new ConflictException(refusal);
        }

        if (latest.CurrentVersion != expectedCurrentVersion)
        {
            throw new ConflictException($"key '{keyId}' was rotated meanwhile: its current version is {latest.CurrentVersion}, not {expectedCurrentVersion}");
        }

        // A version waiting for its activation time is a rotation already under way: another on top
        // would leave it to activate later beside a newer current version.
        var versions = await storage.Keys.ListVersionsAsync(keyId, ct);
        if (versions.FirstOrDefault(v => v.Version == latest.CurrentVersion) is { State: KeyVersionState.PreActive, DestroysAt: null } waiting)
        {
            throw new ConflictException($"version {waiting.Version} of key '{keyId}' is PreActive{(waiting.ActivatesAt is { } at ? $" until {at.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}" : "")}; activate it first");
        }

        var version = await NewVersionAsync(storage, backends, latest, now, activatesAt, ct);
        return await storage.Keys.RotateAsync(keyId, expectedCurrentVersion, version, now, actor, claim, ct) ? version.Version : null;
    }

    /// <summary>The next version (one above every existing one), made by the key store's backend:
    /// Active, or PreActive until <paramref name="activatesAt"/>.</summary>
    public static async Task<KeyVersion> NewVersionAsync(ICofferStorage storage, CryptoBackends backends, ManagedKey key, DateTimeOffset now,
        DateTimeOffset? activatesAt, CancellationToken ct)
    {
        var store = await storage.KeyStores.GetKeyStoreAsync(key.KeyStoreId, ct)
            ?? throw new ConflictException($"key store '{key.KeyStoreId}' of key '{key.Id}' does not exist");
        var number = (await storage.Keys.ListVersionsAsync(key.Id, ct)).Max(v => v.Version) + 1;
        var backend = backends.For(store);
        return new KeyVersion(key.Id, number, activatesAt is null ? KeyVersionState.Active : KeyVersionState.PreActive, backend.Name,
            KeyMaterial.Make(backend, key.Id, number, key.Usage), now) { ActivatesAt = activatesAt };
    }
}
