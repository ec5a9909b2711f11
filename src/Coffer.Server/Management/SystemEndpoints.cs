using Coffer.Auth;
using Coffer.Audit;
using Coffer.Server.Cluster;
using Coffer.Server.Seal;
using Coffer.Server.Xks;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/sys: initialisation, seal and unseal, and who the caller is. Status, init and unseal need
/// no token (like Vault's): before init there is no token, and a share is itself the credential for
/// unseal. Whoami needs a valid token and no permission: it is how a caller whose roles hold on some
/// key stores only learns which (the CLI finds names there).
/// </summary>
internal static class SystemEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/sys").WithTags("System");
        group.MapGet("/status", StatusAsync).AllowAnonymous().WithSummary("Seal status and version (no token; key store count with one)");
        group.MapPost("/init", InitAsync).AllowAnonymous().WithAuditAction(AuditActions.SealInit).WithSummary("Create the master key, its Shamir shares and the root token, once (no token)");
        group.MapPost("/unseal", UnsealAsync).AllowAnonymous().WithAuditAction(AuditActions.SealUnseal).WithSummary("Submit one Shamir share; the dev and pkcs11 seals take none and unseal from their key file or the HSM (no token)");
        group.MapPost("/seal", SealAsync).RequirePermission(Permissions.Seal).WithAuditAction(AuditActions.SealSeal, runsWhenUnaudited: true).WithSummary("Drop all key material from memory");
        group.MapGet("/whoami", WhoAmIAsync).RequireAnyCaller().WithSummary("The caller as the server sees it: its id, kind, name, roles (with their key stores' names), groups and token id");
    }

    private static async Task<Ok<SealStatusView>> StatusAsync(HttpContext http, SealManager seal, ClusterMembership cluster, CancellationToken ct)
    {
        var storage = seal.Storage;
        var kind = await storage.System.GetSettingAsync(SettingNames.SealKind, ct);
        var threshold = int.TryParse(await storage.System.GetSettingAsync(SettingNames.ShamirThreshold, ct), out var t) ? t : 0;
        var authenticated = TokenAuthentication.CallerOf(http) is not null;
        int? count = authenticated ? await storage.KeyStores.CountKeyStoresAsync(ct) : null;
        var nodes = authenticated ? NodeViews(await cluster.ReadViewAsync(ct)) : null;
        return TypedResults.Ok(new SealStatusView(kind is not null, seal.IsSealed, kind, threshold, seal.PendingShareCount, DeepHealthCheck.Version, count, nodes));
    }

    private static List<NodeView> NodeViews(ClusterView view) => [.. view.Nodes.Select(n => new NodeView(
        n.Report.NodeId,
        n.Stopped ? "stopped" : n.IsLive(view.Liveness) ? "live" : "gone",
        Math.Round(n.HeartbeatAge.TotalSeconds, 1),
        n.Report.Sealed,
        n.Report.Health,
        n.Report.HsmHealth,
        view.Leader?.InstanceId == n.Report.InstanceId,
        n.Report.Version,
        n.Report.XksUrl,
        n.Report.ManagementUrl,
        n.StartedAt))];

    private static async Task<Ok<WhoAmIView>> WhoAmIAsync(HttpContext http, ICofferStorage storage, Authorizer authorizer, CancellationToken ct)
    {
        var caller = TokenAuthentication.CallerOf(http) ?? throw new InvalidOperationException("whoami runs only for an authenticated caller.");
        var grants = new List<CallerGrantView>(caller.Grants.Count);
        foreach (var grant in caller.Grants)
        {
            var store = grant.KeyStoreId is null ? null : await storage.KeyStores.GetKeyStoreAsync(grant.KeyStoreId, ct);
            grants.Add(new CallerGrantView(grant.Role, grant.KeyStoreId, store?.Name, [.. (await authorizer.PermissionsOfAsync(grant.Role, ct)).Order(StringComparer.Ordinal)]));
        }

        return TypedResults.Ok(new WhoAmIView(caller.Id, caller.Kind, caller.Name, grants, caller.Groups, caller.TokenId));
    }

    private static async Task<Results<Ok<InitResponse>, ProblemHttpResult>> InitAsync(InitRequest request, SealManager seal, Hosting.CofferOptions options, TimeProvider time, CancellationToken ct)
    {
        // Order of refusals: a malformed request (400), then an initialised node (409), then a seal
        // the server is not configured for (400).
        var kind = request.Seal ?? SealKinds.Shamir;
        if (kind == SealKinds.Shamir && (request.Shares is < 1 or > 255 || request.Threshold < 1 || request.Threshold > request.Shares))
        {
            return Problems.BadRequest("shares must be 1 to 255 and threshold 1 to shares.");
        }

        if (kind != SealKinds.Shamir && request.PgpKeys is { Count: > 0 })
        {
            return Problems.BadRequest($"pgpKeys encrypt Shamir shares; the '{kind}' seal has none.");
        }

        var holders = kind == SealKinds.Shamir ? ShareHolderKeys.Parse(request.PgpKeys, request.Shares, time.GetUtcNow()) : null;

        if (await seal.Storage.System.GetSettingAsync(SettingNames.SealKind, ct) is not null)
        {
            throw new SealStateException("Coffer is already initialised.");
        }

        if (kind != options.Seal)
        {
            return Problems.BadRequest($"This server is configured with the '{options.Seal}' seal; init asked for '{kind}'. Change Seal in the configuration or the request.");
        }

        if (kind == SealKinds.Pkcs11)
        {
            var token = await Pkcs11Seal.InitializeAsync(seal, seal.Pkcs11!, options.Pkcs11SealKeyLabel, ct);
            return TypedResults.Ok(new InitResponse([], token, 0));
        }

        var result = await seal.InitializeShamirAsync(request.Shares, request.Threshold, holders, ct);
        return TypedResults.Ok(new InitResponse(result.Shares, result.RootToken, request.Threshold, holders?.Fingerprints));
    }

    private static async Task<Results<Ok<SealStatusView>, ProblemHttpResult>> UnsealAsync(
        UnsealRequest request, HttpContext http, SealManager seal, Hosting.CofferOptions options, ClusterMembership cluster, CancellationToken ct)
    {
        if (request.Reset)
        {
            seal.DiscardPendingShares();
        }
        else if (string.IsNullOrWhiteSpace(request.Share))
        {
            // The dev and pkcs11 seals need no share: they read the key file or ask the HSM again
            // (after `coffer seal` or an outage).
            var kind = await seal.Storage.System.GetSettingAsync(SettingNames.SealKind, ct);
            if (!SelfUnseal.Handles(kind))
            {
                return Problems.BadRequest("share is required (or reset: true to discard the shares given so far).");
            }

            if (seal.IsSealed)
            {
                await SelfUnseal.UnsealAsync(kind!, seal, options, ct);
            }
        }
        else
        {
            await seal.SubmitShareAsync(request.Share.Trim(), ct);
        }

        return TypedResults.Ok((await StatusAsync(http, seal, cluster, ct)).Value!);
    }

    private static async Task<Ok<SealStatusView>> SealAsync(HttpContext http, SealManager seal, ClusterMembership cluster, CancellationToken ct)
    {
        await seal.SealAsync(ct);
        return await StatusAsync(http, seal, cluster, ct);
    }
}
