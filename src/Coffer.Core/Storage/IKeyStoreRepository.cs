using Coffer.KeyStores;

namespace Coffer.Storage;

/// <summary>
/// Key stores and their SigV4 credentials. Storage is untrusted (docs/style.md, practice 3): it
/// only ever sees sealed secrets. Every method is one transaction; thread-safe.
/// </summary>
public interface IKeyStoreRepository
{
    /// <exception cref="ConflictException">The name or prefix is taken.</exception>
    Task CreateKeyStoreAsync(KeyStore keyStore, CancellationToken ct = default);

    Task<IReadOnlyList<KeyStore>> ListKeyStoresAsync(CancellationToken ct = default);

    Task<KeyStore?> GetKeyStoreAsync(string id, CancellationToken ct = default);

    /// <summary>Deletes a key store with no keys (and its credentials) atomically.</summary>
    Task<DeleteOutcome> DeleteKeyStoreAsync(string id, CancellationToken ct = default);

    Task<int> CountKeyStoresAsync(CancellationToken ct = default);

    /// <exception cref="ConflictException">The access key id is taken.</exception>
    Task AddCredentialAsync(Credential credential, CancellationToken ct = default);

    /// <summary>Credentials of one key store (or all when null), revoked ones included.</summary>
    Task<IReadOnlyList<Credential>> ListCredentialsAsync(string? keyStoreId, CancellationToken ct = default);

    /// <summary>Sets RevokedAt if not yet set; false when no such live credential exists.</summary>
    Task<bool> RevokeCredentialAsync(string keyStoreId, string credentialId, DateTimeOffset at, CancellationToken ct = default);
}

public enum DeleteOutcome
{
    Deleted,
    NotFound,
    NotEmpty,
}
