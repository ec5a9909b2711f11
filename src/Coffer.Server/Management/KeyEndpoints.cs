using System.ComponentModel.DataAnnotations;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.KeyStores;
using Coffer.Keys;
using Coffer.Server.Approvals;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>/api/v1/keys and /api/v1/keystores/{id}/keys: AES-256 keys for AWS KMS.</summary>
internal static class KeyEndpoints
{
    private const int MaxTags = 50;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/keystores/{id}/keys", CreateAsync).RequirePermission(Permissions.KeysWrite).WithTags("Keys").WithAuditAction(AuditActions.KeyCreate)
            .WithSummary("Create an AES-256 key in a key store; its name is the XKS externalKeyId. With activatesAt its first version is PreActive until then");
        var group = api.MapGroup("/keys").WithTags("Keys").RequirePermission(Permissions.KeysWrite);
        group.MapGet("", ListAsync).RequirePermission(Permissions.KeysRead).WithSummary("List keys with filters and paging");
        group.MapGet("/{keyId}", GetAsync).RequirePermission(Permissions.KeysRead).WithSummary("Show a key with its versions");
        group.MapPost("/{keyId}/enable", (string keyId, SealManager seal, TimeProvider time, CancellationToken ct) => SetEnabledAsync(keyId, true, seal, time, ct)).WithAuditAction(AuditActions.KeyEnable)
            .WithSummary("Enable a key");
        group.MapPost("/{keyId}/disable", (string keyId, SealManager seal, TimeProvider time, CancellationToken ct) => SetEnabledAsync(keyId, false, seal, time, ct)).RequiresQuorum(QuorumOperations.KeyDisable).WithAuditAction(AuditActions.KeyDisable)
            .WithSummary("Disable a key: AWS KMS can no longer encrypt or decrypt with it");
        KeyLifecycleEndpoints.Map(group);
        KeyDestructionEndpoints.Map(group);
        BulkRotateEndpoints.Map(group);
    }

    private static async Task<Results<Created<KeyView>, ProblemHttpResult>> CreateAsync(
        string id, CreateKeyRequest request, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var store = await seal.Storage.KeyStores.GetKeyStoreAsync(id, ct);
        if (store is null)
        {
            return KeyStoreEndpoints.NotFound(id);
        }

        var keyId = CredentialGenerator.NewId("key");
        var name = request.Name ?? keyId;
        if (!ManagedKey.IsValidExternalId(name))
        {
            return Problems.BadRequest("name (the XKS externalKeyId) must be 1 to 128 letters, digits, '.', '_' or '-'.");
        }

        var usage = KeyUsage.EncryptDecrypt;
        if (request.Usage is not null && !KeyUsageText.TryParse(request.Usage, out usage))
        {
            return Problems.BadRequest("usage takes ENCRYPT, DECRYPT, both, or NONE.");
        }

        var tags = request.Tags ?? [];
        if (tags.Count > MaxTags || tags.Any(t => t.Key.Length is 0 or > 128 || t.Value.Length > 256))
        {
            return Problems.BadRequest($"At most {MaxTags} tags, keys of 1 to 128 characters, values of at most 256.");
        }

        var description = request.Description ?? string.Empty;
        if (description.Length > 1024)
        {
            return Problems.BadRequest("description is at most 1024 characters.");
        }

        if (request.HsmLabel is not null && store.Backend != KeyStoreBackends.Pkcs11)
        {
            return Problems.BadRequest($"hsmLabel adopts an HSM key, which only a '{KeyStoreBackends.Pkcs11}' key store can hold; '{store.Name}' is a '{store.Backend}' key store.");
        }

        var now = time.GetUtcNow();
        if (VersionDates.Problem(request.ActivatesAt, null, now) is { } problem)
        {
            return Problems.BadRequest("activatesAt: " + problem);
        }

        var key = new ManagedKey(keyId, id, name, description, tags, usage, Enabled: true, CurrentVersion: 1, now);
        var refusal = await seal.ChangeAsync(async (backends, _) =>
        {
            var backend = backends.For(store);
            byte[] material;
            try
            {
                material = MakeMaterial(backend, keyId, 1, usage, request.HsmLabel);
            }
            catch (CryptoException e) when (request.HsmLabel is not null)
            {
                return e.Message;
            }

            var state = request.ActivatesAt is null ? KeyVersionState.Active : KeyVersionState.PreActive;
            await seal.Storage.Keys.CreateKeyAsync(key, new KeyVersion(keyId, 1, state, backend.Name, material, now) { ActivatesAt = request.ActivatesAt }, ct);
            return null;
        }, ct);
        return refusal is not null
            ? Problems.BadRequest(refusal)
            : TypedResults.Created($"/api/v1/keys/{keyId}", await ViewAsync(seal.Storage, key, now, ct));
    }

    /// <summary>New material in the key store's backend, or the reference of an adopted HSM key.</summary>
    internal static byte[] MakeMaterial(ICryptoBackend backend, string keyId, int version, KeyUsage usage, string? hsmLabel = null) =>
        hsmLabel is null ? backend.CreateKeyMaterial(keyId, version, usage) : backend.ImportKey(hsmLabel);

    private static async Task<Results<Ok<KeyListView>, ProblemHttpResult>> ListAsync(
        ICofferStorage storage, TimeProvider time, string? keystore, string? q, string? tag, bool? enabled, string? after, [Range(1, 1000)] int? limit, CancellationToken ct)
    {
        var page = await storage.Keys.ListKeysAsync(new KeyQuery(keystore, q, tag, enabled, after, limit ?? 100), ct);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new KeyListView(page.Keys.Select(k => View(k, null, now)).ToList(), page.NextAfter));
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> GetAsync(string keyId, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var key = await storage.Keys.GetKeyAsync(keyId, ct);
        return key is null ? NotFound(keyId) : TypedResults.Ok(await ViewAsync(storage, key, time.GetUtcNow(), ct));
    }

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SetEnabledAsync(string keyId, bool enabled, SealManager seal, TimeProvider time, CancellationToken ct)
    {
        var found = await seal.ChangeAsync(async (_, _) =>
        {
            await RefuseIfDestroyedAsync(seal.Storage, keyId, ct);
            return await seal.Storage.Keys.SetEnabledAsync(keyId, enabled, ct);
        }, ct);
        return await FoundAsync(found, keyId, seal.Storage, time, ct);
    }

    /// <summary>A destroyed key is a tombstone: no setting of it changes any more (a 409).</summary>
    internal static async Task RefuseIfDestroyedAsync(ICofferStorage storage, string keyId, CancellationToken ct)
    {
        if (await storage.Keys.GetKeyAsync(keyId, ct) is { } key && KeyDestruction.Unchangeable(key) is { } refusal)
        {
            throw new ConflictException(refusal);
        }
    }

    /// <summary>The key's view after a change, or 404 when the change found no key.</summary>
    internal static async Task<Results<Ok<KeyView>, ProblemHttpResult>> FoundAsync(bool found, string keyId, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var key = found ? await storage.Keys.GetKeyAsync(keyId, ct) : null;
        return key is null ? NotFound(keyId) : TypedResults.Ok(await ViewAsync(storage, key, time.GetUtcNow(), ct));
    }

    internal static ProblemHttpResult NotFound(string keyId) => Problems.NotFound($"No key with id '{keyId}' exists.");

    private static async Task<KeyView> ViewAsync(ICofferStorage storage, ManagedKey key, DateTimeOffset now, CancellationToken ct) =>
        View(key, await storage.Keys.ListVersionsAsync(key.Id, ct), now);

    /// <summary>The key as the API shows it; what each version can do is judged at <paramref name="now"/>.</summary>
    private static KeyView View(ManagedKey k, IReadOnlyList<KeyVersion>? versions, DateTimeOffset now)
    {
        var encrypting = versions is null ? null : Handover.EncryptingVersionAt(k.CurrentVersion, versions.ToDictionary(v => v.Version, v => v.Lifecycle), now);
        return new(
            k.Id, k.KeyStoreId, k.ExternalId, k.Description, k.Tags, KeyUsageText.ToNames(k.Usage),
            Status(k), k.CurrentVersion, k.CreatedAt,
            versions?.Select(v => new KeyVersionView(
                v.Version, v.State.ToString(), v.Backend, v.CreatedAt,
                Encrypts: v.Version == encrypting,
                Decrypts: v.Lifecycle.CanDecryptAt(now, k.CompromisedMayDecrypt),
                v.ActivatesAt, v.DeactivatesAt, v.DestroysAt, v.StateChangedAt, v.StateChangedBy, v.EncryptionsReserved)).ToList(),
            k.CompromisedMayDecrypt, k.DestroysAt, k.DestroyedAt);
    }

    /// <summary>"destroyed" and "pending-destruction" outrank the enabled switch: neither key serves AWS KMS.</summary>
    private static string Status(ManagedKey k) =>
        k.IsDestroyed ? "destroyed" : k.IsPendingDestruction ? "pending-destruction" : k.Enabled ? "enabled" : "disabled";
}
