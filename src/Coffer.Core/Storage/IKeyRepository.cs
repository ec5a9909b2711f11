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
}

/// <summary>A filter and page over keys. <see cref="After"/> is the last id of the previous page.</summary>
public sealed record KeyQuery(
    string? KeyStoreId = null,
    string? Text = null,
    string? Tag = null,
    bool? Enabled = null,
    string? After = null,
    int Limit = 100);

public sealed record KeyPage(IReadOnlyList<ManagedKey> Keys, string? NextAfter);
