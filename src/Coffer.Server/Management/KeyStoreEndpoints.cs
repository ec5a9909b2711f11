using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.KeyStores;
using Coffer.Server.Approvals;
using Coffer.Server.KeyStores;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>/api/v1/keystores: logical key stores, each an XKS endpoint of its own under a URI prefix.</summary>
internal static class KeyStoreEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/keystores").WithTags("Key stores");
        group.MapGet("", ListAsync).RequirePermission(Permissions.KeyStoresRead).WithSummary("List key stores");
        group.MapPost("", CreateAsync).RequirePermission(Permissions.KeyStoresWrite).WithAuditAction(AuditActions.KeyStoreCreate).WithSummary("Create a key store at a URI prefix");
        group.MapGet("/{id}", GetAsync).RequirePermission(Permissions.KeyStoresRead).WithSummary("Show a key store");
        group.MapDelete("/{id}", DeleteAsync).RequirePermission(Permissions.KeyStoresWrite).RequiresQuorum(QuorumOperations.KeyStoreDelete).WithAuditAction(AuditActions.KeyStoreDelete).WithSummary("Delete a key store that has no keys");
    }

    private static async Task<Ok<List<KeyStoreView>>> ListAsync(ICofferStorage storage, CancellationToken ct)
    {
        var views = new List<KeyStoreView>();
        foreach (var store in await storage.KeyStores.ListKeyStoresAsync(ct))
        {
            views.Add(await ViewAsync(storage, store, ct));
        }

        return TypedResults.Ok(views);
    }

    private static async Task<Results<Created<KeyStoreView>, ProblemHttpResult>> CreateAsync(
        CreateKeyStoreRequest request, KeyStoreService keyStores, ICofferStorage storage, CancellationToken ct)
    {
        if (!Validation.TryName(request.Name, "name", out var nameError))
        {
            return Problems.BadRequest(nameError);
        }

        if (request.UriPrefix is null)
        {
            return Problems.BadRequest("uriPrefix is required: the path in front of /kms/xks/v1, e.g. \"/tenant-a\" (\"\" for none).");
        }

        if (!UriPrefix.TryParse(request.UriPrefix, out var prefix, out var prefixError))
        {
            return Problems.BadRequest(prefixError);
        }

        var backend = request.Backend ?? KeyStoreBackends.Software;
        if (backend is not (KeyStoreBackends.Software or KeyStoreBackends.Pkcs11))
        {
            return Problems.BadRequest($"backend is '{KeyStoreBackends.Software}' (keys sealed under the master key) or '{KeyStoreBackends.Pkcs11}' (keys inside the HSM).");
        }

        var store = await keyStores.CreateAsync(request.Name!, prefix.Value, backend, ct);
        return TypedResults.Created($"/api/v1/keystores/{store.Id}", await ViewAsync(storage, store, ct));
    }

    private static async Task<Results<Ok<KeyStoreView>, ProblemHttpResult>> GetAsync(string id, ICofferStorage storage, CancellationToken ct)
    {
        var store = await storage.KeyStores.GetKeyStoreAsync(id, ct);
        return store is null ? NotFound(id) : TypedResults.Ok(await ViewAsync(storage, store, ct));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, KeyStoreService keyStores, CancellationToken ct)
    {
        await keyStores.DeleteAsync(id, ct);
        return TypedResults.NoContent();
    }

    public static ProblemHttpResult NotFound(string id) => Problems.NotFound(KeyStoreService.KeyStoreNotFound(id).Message);

    private static async Task<KeyStoreView> ViewAsync(ICofferStorage storage, KeyStore store, CancellationToken ct)
    {
        var keys = await storage.Keys.CountKeysAsync(store.Id, ct);
        var credentials = await storage.KeyStores.ListCredentialsAsync(store.Id, ct);
        return new KeyStoreView(store.Id, store.Name, store.Prefix.Value, store.Prefix.XksProxyUriPath, store.CreatedAt, keys, credentials.Count(c => c.IsLive), store.Backend);
    }
}
