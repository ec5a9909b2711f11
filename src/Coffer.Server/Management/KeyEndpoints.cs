using System.ComponentModel.DataAnnotations;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Keys;
using Coffer.Server.Approvals;
using Coffer.Server.Keys;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>/api/v1/keys and /api/v1/keystores/{id}/keys: AES-256 keys for AWS KMS.</summary>
internal static class KeyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/keystores/{id}/keys", CreateAsync).RequirePermission(Permissions.KeysWrite).WithTags("Keys").WithAuditAction(AuditActions.KeyCreate)
            .WithSummary("Create an AES-256 key in a key store; its name is the XKS externalKeyId. With activatesAt its first version is PreActive until then");
        var group = api.MapGroup("/keys").WithTags("Keys").RequirePermission(Permissions.KeysWrite);
        group.MapGet("", ListAsync).RequirePermission(Permissions.KeysRead).WithSummary("List keys with filters and paging");
        group.MapGet("/{keyId}", GetAsync).RequirePermission(Permissions.KeysRead).WithSummary("Show a key with its versions");
        group.MapPost("/{keyId}/enable", (string keyId, KeyService keys, TimeProvider time, CancellationToken ct) => SetEnabledAsync(keyId, true, keys, time, ct)).WithAuditAction(AuditActions.KeyEnable)
            .WithSummary("Enable a key");
        group.MapPost("/{keyId}/disable", (string keyId, KeyService keys, TimeProvider time, CancellationToken ct) => SetEnabledAsync(keyId, false, keys, time, ct)).RequiresQuorum(QuorumOperations.KeyDisable).WithAuditAction(AuditActions.KeyDisable)
            .WithSummary("Disable a key: AWS KMS can no longer encrypt or decrypt with it");
        KeyLifecycleEndpoints.Map(group);
        KeyDestructionEndpoints.Map(group);
        KeyAttentionEndpoints.Map(group);
        BulkRotateEndpoints.Map(group);
    }

    private static async Task<Results<Created<KeyView>, ProblemHttpResult>> CreateAsync(
        string id, CreateKeyRequest request, KeyService keys, TimeProvider time, CancellationToken ct)
    {
        var usage = KeyUsage.EncryptDecrypt;
        if (request.Usage is not null && !KeyUsageText.TryParse(request.Usage, out usage))
        {
            return Problems.BadRequest("usage takes ENCRYPT, DECRYPT, both, or NONE.");
        }

        var created = await keys.CreateAsync(id, new NewKey(request.Name, request.Description ?? string.Empty, request.Tags ?? [], usage, request.HsmLabel, request.ActivatesAt), ct);
        return TypedResults.Created($"/api/v1/keys/{created.Key.Id}", View(created, time.GetUtcNow()));
    }

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

    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SetEnabledAsync(string keyId, bool enabled, KeyService keys, TimeProvider time, CancellationToken ct) =>
        TypedResults.Ok(View(await keys.SetEnabledAsync(keyId, enabled, ct), time.GetUtcNow()));

    internal static ProblemHttpResult NotFound(string keyId) => Problems.NotFound(KeyService.KeyNotFound(keyId).Message);

    private static async Task<KeyView> ViewAsync(ICofferStorage storage, ManagedKey key, DateTimeOffset now, CancellationToken ct) =>
        View(key, await storage.Keys.ListVersionsAsync(key.Id, ct), now);

    /// <summary>The key as the API shows it after a change.</summary>
    internal static KeyView View(KeyState state, DateTimeOffset now) => View(state.Key, state.Versions, now);

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
