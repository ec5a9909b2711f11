using Coffer.Keys;

namespace Coffer.Storage;

/// <summary>
/// Keys and their versions. Version material is the backend's stored form (wrapped or a reference),
/// never plaintext. Every method is one transaction; thread-safe.
/// </summary>
public interface IKeyRepository
{
    /// <summary>Creates a key and its first version atomically.</summary>
    /// <exception cref="ConflictException">The external id is taken in that key store.</exception>
    Task CreateKeyAsync(ManagedKey key, KeyVersion firstVersion, CancellationToken ct = default);

    Task<ManagedKey?> GetKeyAsync(string id, CancellationToken ct = default);

    Task<ManagedKey?> FindKeyAsync(string keyStoreId, string externalId, CancellationToken ct = default);

    Task<KeyPage> ListKeysAsync(KeyQuery query, CancellationToken ct = default);

    /// <summary>Every key with every version, for loading the in-memory key ring at unseal.</summary>
    Task<IReadOnlyList<(ManagedKey Key, IReadOnlyList<KeyVersion> Versions)>> LoadAllAsync(CancellationToken ct = default);

    Task<IReadOnlyList<KeyVersion>> ListVersionsAsync(string keyId, CancellationToken ct = default);

    /// <summary>Sets the enabled switch; false when the key does not exist.</summary>
    Task<bool> SetEnabledAsync(string keyId, bool enabled, CancellationToken ct = default);

    Task<int> CountKeysAsync(string? keyStoreId, CancellationToken ct = default);

    /// <summary>
    /// Rotates a key in one transaction: inserts <paramref name="newVersion"/> (which must be Active, or
    /// PreActive with an activation time, and numbered one above every existing version), makes it the
    /// current version, and deactivates the previous current version if its stored state is Active — or,
    /// for a PreActive new version, sets the previous one's expiry to the activation time (if not
    /// earlier), so it encrypts until the new one takes over (recording <paramref name="at"/> and
    /// <paramref name="actor"/> on both). Optimistic: the caller read the key with current version
    /// <paramref name="expectedCurrentVersion"/>, and if another writer rotated meanwhile nothing changes.
    /// </summary>
    /// <param name="claim">For a scheduled rotation: the due time it answers, recorded in the same
    /// transaction as the key's last handled due time.</param>
    /// <returns>False when the key does not exist.</returns>
    /// <exception cref="ConflictException">The current version is no longer
    /// <paramref name="expectedCurrentVersion"/>, the new version's number is taken, or the scheduler
    /// already rotated <paramref name="expectedCurrentVersion"/> away.</exception>
    Task<bool> RotateAsync(string keyId, int expectedCurrentVersion, KeyVersion newVersion, DateTimeOffset at, string actor, RotationClaim? claim = null, CancellationToken ct = default);

    /// <summary>
    /// Replaces a version's lifecycle (state and times) with <paramref name="replacement"/> if the stored one is
    /// still <paramref name="expected"/> (compare-and-set, so of two administrators acting on the same
    /// version only one wins), recording <paramref name="at"/> and <paramref name="actor"/>. The caller
    /// decides legality with <see cref="KeyLifecycle.TryApply"/>; storage only guards against races.
    /// </summary>
    /// <returns>False when the version does not exist.</returns>
    /// <exception cref="ConflictException">The stored lifecycle is not <paramref name="expected"/>.</exception>
    Task<bool> UpdateVersionLifecycleAsync(string keyId, int version, VersionLifecycle expected, VersionLifecycle replacement, DateTimeOffset at, string actor, CancellationToken ct = default);

    /// <summary>Sets whether the key's Compromised versions may still decrypt; false when the key does not exist.</summary>
    Task<bool> SetCompromisedMayDecryptAsync(string keyId, bool allowed, CancellationToken ct = default);

    /// <summary>
    /// Sets or clears (<paramref name="destroysAt"/> null) the end of a whole key's destruction waiting
    /// period if the stored one is still <paramref name="expected"/> and the key is not destroyed
    /// (compare-and-set). The caller decides legality with <see cref="KeyDestruction"/>.
    /// </summary>
    /// <returns>False when the key does not exist.</returns>
    /// <exception cref="ConflictException">The key changed meanwhile or is destroyed.</exception>
    Task<bool> SetKeyDestroysAtAsync(string keyId, DateTimeOffset? expected, DateTimeOffset? destroysAt, CancellationToken ct = default);

    /// <summary>Versions not yet Destroyed whose own waiting period ended at or before <paramref name="now"/>,
    /// oldest due first. (A key whose waiting period ended is found by <see cref="ListKeysDueForDestructionAsync"/>.)</summary>
    Task<IReadOnlyList<KeyVersion>> ListVersionsDueForDestructionAsync(DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Keys not yet destroyed whose waiting period ended at or before <paramref name="now"/>.</summary>
    Task<IReadOnlyList<ManagedKey>> ListKeysDueForDestructionAsync(DateTimeOffset now, CancellationToken ct = default);

    /// <summary>
    /// Marks a version Destroyed and erases its stored material for good, if its stored lifecycle is
    /// still <paramref name="expected"/> (compare-and-set, recording <paramref name="at"/> and
    /// <paramref name="actor"/>). Erased means unrecoverable from the database files, not merely
    /// unreferenced: the implementation overwrites the old bytes (SQLite: secure_delete), and
    /// <see cref="CompleteErasureAsync"/> then removes older copies from the files. The caller decides
    /// that destruction is due and destroys what the material refers to outside the database first
    /// (<see cref="Coffer.Crypto.ICryptoBackend.DestroyKeyMaterial"/>). Quick: it waits for no reader,
    /// so it may run under the seal's change lock.
    /// </summary>
    /// <returns>False when the version does not exist.</returns>
    /// <exception cref="ConflictException">The stored lifecycle is not <paramref name="expected"/>.</exception>
    Task<bool> DestroyVersionAsync(string keyId, int version, VersionLifecycle expected, DateTimeOffset at, string actor, CancellationToken ct = default);

    /// <summary>
    /// Finishes erasing the material of destroyed versions from the storage's files (SQLite: the page
    /// images that still hold it in the database file and the WAL), without making other writers, the
    /// audit writer above all, wait more than a fraction of a second. Run it outside any change, after
    /// destructions, and again until it answers true.
    /// </summary>
    /// <returns>True when no erased material is left in the files; false when a reader of an older
    /// snapshot (or a busy writer) kept it from finishing, and it must be called again later.</returns>
    Task<bool> CompleteErasureAsync(CancellationToken ct = default);

    /// <summary>Turns a key whose versions are all Destroyed into a tombstone destroyed at
    /// <paramref name="at"/>; its waiting period is cleared. Idempotent for a key already destroyed.</summary>
    /// <returns>False when the key does not exist.</returns>
    /// <exception cref="ConflictException">A version is not Destroyed yet.</exception>
    Task<bool> MarkKeyDestroyedAsync(string keyId, DateTimeOffset at, CancellationToken ct = default);

    /// <summary>Reserves up to <paramref name="count"/> more encryptions under a version, so that the
    /// version's reserved total never passes <paramref name="limit"/> (NIST SP 800-38D's bound on
    /// random IVs): the caller may make as many encryptions as it was granted, none when the version has
    /// none left or does not exist. Reservations only grow, across restarts and nodes.</summary>
    Task<EncryptionReservation> ReserveEncryptionsAsync(string keyId, int version, long count, long limit, CancellationToken ct = default);

    /// <summary>How many encryptions have been reserved under a version so far (0 when it does not exist).</summary>
    Task<long> GetEncryptionsReservedAsync(string keyId, int version, CancellationToken ct = default);

    /// <summary>Versions that will soon stop encrypting, of keys that are not being destroyed: PreActive or
    /// Active ones expiring (deactivatesAt) before <paramref name="expiresBefore"/>, soonest first, then Active
    /// ones with at least <paramref name="reservedAtLeast"/> encryptions reserved, fullest first; at most
    /// <paramref name="limit"/> of each. Both are index reads, however many keys there are.</summary>
    Task<IReadOnlyList<KeyVersionAttention>> ListVersionsNeedingAttentionAsync(DateTimeOffset expiresBefore, long reservedAtLeast, int limit, CancellationToken ct = default);
}

/// <summary>A version near its expiry or its encryption budget, with its key's name and key store.</summary>
public sealed record KeyVersionAttention(string KeyId, string KeyStoreId, string Name, int Version, DateTimeOffset? DeactivatesAt, long EncryptionsReserved);

/// <summary>What a reservation of encryptions gave: <see cref="Granted"/> more, bringing the version's
/// reserved total to <see cref="Total"/>.</summary>
public readonly record struct EncryptionReservation(long Granted, long Total);

/// <summary>A filter and page over keys. <see cref="After"/> is the last id of the previous page.</summary>
public sealed record KeyQuery(
    string? KeyStoreId = null,
    string? Text = null,
    string? Tag = null,
    bool? Enabled = null,
    string? After = null,
    int Limit = 100);

public sealed record KeyPage(IReadOnlyList<ManagedKey> Keys, string? NextAfter);
