using System.Security.Cryptography;
using System.Text;
using Coffer.Crypto;
using Coffer.KeyStores;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.KeyStores;

/// <summary>
/// Changes to key stores and their SigV4 credentials. Each change is written under the seal's change
/// lock, so the key ring serves it when the call returns. Refusals are <see cref="NotFoundException"/>,
/// <see cref="InvalidRequestException"/> and <see cref="ConflictException"/>.
/// </summary>
internal sealed class KeyStoreService(SealManager seal, TimeProvider time)
{
    /// <summary>Creates a key store at <paramref name="prefix"/>, served by <paramref name="backend"/>.</summary>
    public async Task<KeyStore> CreateAsync(string name, UriPrefix prefix, string backend, CancellationToken ct)
    {
        var store = new KeyStore(CredentialGenerator.NewId("ks"), name, prefix, time.GetUtcNow(), backend);
        await seal.ChangeAsync(async (backends, _) =>
        {
            if (backends.Find(backend) is null)
            {
                throw new InvalidRequestException($"This node has no '{backend}' backend configured (see the Pkcs11 section of the configuration).");
            }

            await seal.Storage.KeyStores.CreateKeyStoreAsync(store, ct);
            return true;
        }, ct);
        return store;
    }

    /// <summary>Deletes a key store that holds no keys.</summary>
    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        switch (await seal.ChangeAsync((_, _) => seal.Storage.KeyStores.DeleteKeyStoreAsync(id, ct), ct))
        {
            case DeleteOutcome.Deleted:
                return;
            case DeleteOutcome.NotEmpty:
                throw new ConflictException($"Key store '{id}' still has keys; a key store can be deleted only when it is empty.");
            default:
                throw KeyStoreNotFound(id);
        }
    }

    /// <summary>Adds a credential; the secret is sealed under the master key at rest and returned only here.</summary>
    public async Task<(Credential Credential, string Secret)> AddCredentialAsync(string id, CancellationToken ct)
    {
        if (await seal.Storage.KeyStores.GetKeyStoreAsync(id, ct) is null)
        {
            throw KeyStoreNotFound(id);
        }

        var accessKeyId = CredentialGenerator.NewAccessKeyId();
        var secret = CredentialGenerator.NewSecretAccessKey();
        var credential = await seal.ChangeAsync(async (_, master) =>
        {
            var secretBytes = Encoding.UTF8.GetBytes(secret);
            try
            {
                var created = new Credential(CredentialGenerator.NewId("cred"), id, accessKeyId,
                    master.Seal(SealPurpose.SigV4Secret, accessKeyId, secretBytes), time.GetUtcNow(), null);
                await seal.Storage.KeyStores.AddCredentialAsync(created, ct);
                return created;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secretBytes);
            }
        }, ct);
        return (credential, secret);
    }

    /// <summary>Revokes a live credential at once: the key ring stops accepting its signatures.</summary>
    public async Task RevokeCredentialAsync(string id, string credentialId, CancellationToken ct)
    {
        if (!await seal.ChangeAsync((_, _) => seal.Storage.KeyStores.RevokeCredentialAsync(id, credentialId, time.GetUtcNow(), ct), ct))
        {
            throw CredentialNotFound(id, credentialId);
        }
    }

    public static NotFoundException KeyStoreNotFound(string id) => new($"No key store with id '{id}' exists.");

    public static NotFoundException CredentialNotFound(string id, string credentialId) =>
        new($"Key store '{id}' has no live credential with id '{credentialId}'.");
}
