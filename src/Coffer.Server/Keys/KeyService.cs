using Coffer.Crypto;
using Coffer.KeyStores;
using Coffer.Keys;
using Coffer.Server.KeyStores;
using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Keys;

/// <summary>
/// Creating keys and changing their settings. Each change is written under the seal's change lock,
/// so the key ring serves it when the call returns, and answers with the key as stored then.
/// Rotation, version states and destruction are <see cref="Lifecycle.KeyLifecycleService"/>'s.
/// </summary>
internal sealed class KeyService(SealManager seal, TimeProvider time)
{
    public const int MaxTags = 50;

    public const int MaxDescriptionLength = 1024;

    /// <summary>A new key with version 1: Active, or PreActive until <see cref="NewKey.ActivatesAt"/>.</summary>
    public async Task<KeyState> CreateAsync(string keyStoreId, NewKey request, CancellationToken ct)
    {
        var storage = seal.Storage;
        var store = await storage.KeyStores.GetKeyStoreAsync(keyStoreId, ct) ?? throw KeyStoreService.KeyStoreNotFound(keyStoreId);
        var keyId = CredentialGenerator.NewId("key");
        var name = request.Name ?? keyId;
        if (!ManagedKey.IsValidExternalId(name))
        {
            throw new InvalidRequestException("name (the XKS externalKeyId) must be 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        if (request.Tags.Count > MaxTags || request.Tags.Any(t => t.Key.Length is 0 or > 128 || t.Value.Length > 256))
        {
            throw new InvalidRequestException($"At most {MaxTags} tags, keys of 1 to 128 characters, values of at most 256.");
        }

        if (request.Description.Length > MaxDescriptionLength)
        {
            throw new InvalidRequestException($"description is at most {MaxDescriptionLength} characters.");
        }

        if (request.HsmLabel is not null && store.Backend != KeyStoreBackends.Pkcs11)
        {
            throw new InvalidRequestException($"hsmLabel adopts an HSM key, which only a '{KeyStoreBackends.Pkcs11}' key store can hold; '{store.Name}' is a '{store.Backend}' key store.");
        }

        var now = time.GetUtcNow();
        if (VersionDates.Problem(request.ActivatesAt, null, now) is { } problem)
        {
            throw new InvalidRequestException("activatesAt: " + problem);
        }

        var key = new ManagedKey(keyId, keyStoreId, name, request.Description, request.Tags, request.Usage, Enabled: true, CurrentVersion: 1, now);
        var first = await seal.ChangeAsync(async (backends, _) =>
        {
            var backend = backends.For(store);
            byte[] material;
            try
            {
                material = KeyMaterial.Make(backend, keyId, 1, request.Usage, request.HsmLabel);
            }
            catch (CryptoException e) when (request.HsmLabel is not null)
            {
                // The label names no usable HSM key: the caller's input, not a fault of Coffer's.
                throw new InvalidRequestException(e.Message);
            }

            var state = request.ActivatesAt is null ? KeyVersionState.Active : KeyVersionState.PreActive;
            var version = new KeyVersion(keyId, 1, state, backend.Name, material, now) { ActivatesAt = request.ActivatesAt };
            await storage.Keys.CreateKeyAsync(key, version, ct);
            return version;
        }, ct);
        return new KeyState(key, [first]);
    }

    /// <summary>Enables or disables a key; a disabled key serves AWS KMS nothing.</summary>
    public Task<KeyState> SetEnabledAsync(string keyId, bool enabled, CancellationToken ct) =>
        ChangeSettingAsync(keyId, () => seal.Storage.Keys.SetEnabledAsync(keyId, enabled, ct), ct);

    /// <summary>Allows or forbids the key's Compromised versions to decrypt.</summary>
    public Task<KeyState> SetCompromisedMayDecryptAsync(string keyId, bool allowed, CancellationToken ct) =>
        ChangeSettingAsync(keyId, () => seal.Storage.Keys.SetCompromisedMayDecryptAsync(keyId, allowed, ct), ct);

    /// <summary>Sets the rotation policy of a key or, for every key without its own, of a key store.</summary>
    public async Task SetRotationPolicyAsync(RotationPolicyScope scope, string targetId, RotationPolicy policy, CancellationToken ct)
    {
        if (policy.Problem() is { } problem)
        {
            throw new InvalidRequestException(problem);
        }

        await RequireTargetAsync(scope, targetId, ct);
        await seal.ChangeAsync(async (_, _) =>
        {
            await seal.Storage.Rotation.SetPolicyAsync(scope, targetId, policy, ct);
            return true;
        }, ct);
    }

    /// <summary>Removes a key's or key store's own rotation policy.</summary>
    public async Task ClearRotationPolicyAsync(RotationPolicyScope scope, string targetId, CancellationToken ct)
    {
        await RequireTargetAsync(scope, targetId, ct);
        if (!await seal.ChangeAsync((_, _) => seal.Storage.Rotation.DeletePolicyAsync(scope, targetId, ct), ct))
        {
            throw new NotFoundException(scope == RotationPolicyScope.Key
                ? $"Key '{targetId}' has no rotation policy of its own."
                : $"Key store '{targetId}' has no rotation policy.");
        }
    }

    /// <summary>The key as stored now.</summary>
    public async Task<KeyState> ReadAsync(string keyId, CancellationToken ct)
    {
        var key = await seal.Storage.Keys.GetKeyAsync(keyId, ct) ?? throw KeyNotFound(keyId);
        return new KeyState(key, await seal.Storage.Keys.ListVersionsAsync(keyId, ct));
    }

    public static NotFoundException KeyNotFound(string keyId) => new($"No key with id '{keyId}' exists.");

    /// <summary>A destroyed key is a tombstone: no setting of it changes any more (a 409).</summary>
    internal static async Task RefuseIfDestroyedAsync(ICofferStorage storage, string keyId, CancellationToken ct)
    {
        if (await storage.Keys.GetKeyAsync(keyId, ct) is { } key && KeyDestruction.Unchangeable(key) is { } refusal)
        {
            throw new ConflictException(refusal);
        }
    }

    private async Task<KeyState> ChangeSettingAsync(string keyId, Func<Task<bool>> write, CancellationToken ct)
    {
        var found = await seal.ChangeAsync(async (_, _) =>
        {
            await RefuseIfDestroyedAsync(seal.Storage, keyId, ct);
            return await write();
        }, ct);
        return found ? await ReadAsync(keyId, ct) : throw KeyNotFound(keyId);
    }

    private async Task RequireTargetAsync(RotationPolicyScope scope, string targetId, CancellationToken ct)
    {
        if (scope == RotationPolicyScope.Key && await seal.Storage.Keys.GetKeyAsync(targetId, ct) is null)
        {
            throw KeyNotFound(targetId);
        }

        if (scope == RotationPolicyScope.KeyStore && await seal.Storage.KeyStores.GetKeyStoreAsync(targetId, ct) is null)
        {
            throw KeyStoreService.KeyStoreNotFound(targetId);
        }
    }
}

/// <summary>What a new key is: its name (the XKS externalKeyId; null for its id), what it may do, and
/// optionally an HSM key to adopt and a later activation time.</summary>
internal sealed record NewKey(
    string? Name, string Description, IReadOnlyDictionary<string, string> Tags, KeyUsage Usage, string? HsmLabel = null, DateTimeOffset? ActivatesAt = null);
