using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/users and /api/v1/apps: people and service accounts, each with roles (on every key store
/// or on one) and groups. Tokens are issued to them through /api/v1/tokens with an owner.
/// Disabling is final and revokes their tokens; the id stays, so records naming it stay readable.
/// </summary>
internal static class PrincipalEndpoints
{
    /// <summary>Why a change that would leave no administrator was refused (<see cref="GuardedChange.WouldLockOut"/>).</summary>
    public const string LockOutRefusal =
        "it would leave no administrator able to manage Coffer; give administrator to another user, app or token first.";

    private const int MaxNameLength = 128;
    private const int MaxGrants = 32;
    private const int MaxGroups = 32;

    public static void Map(RouteGroupBuilder api)
    {
        MapKind(api, "/users", CallerKinds.User, "Users", "user");
        MapKind(api, "/apps", CallerKinds.App, "Apps", "app");
    }

    private static void MapKind(RouteGroupBuilder api, string path, string kind, string tag, string noun)
    {
        var group = api.MapGroup(path).WithTags(tag).RequirePermission(Permissions.IdentitiesWrite);
        group.MapPost("", (PrincipalRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct) => CreateAsync(kind, request, storage, time, ct))
            .WithAuditAction(noun + ".create").WithSummary($"Create a {noun} with roles and groups");
        group.MapGet("", (ICofferStorage storage, CancellationToken ct) => ListAsync(kind, storage, ct))
            .RequirePermission(Permissions.IdentitiesRead).WithSummary($"List {noun}s with their roles and groups");
        group.MapGet("/{id}", (string id, ICofferStorage storage, CancellationToken ct) => GetAsync(kind, id, storage, ct))
            .RequirePermission(Permissions.IdentitiesRead).WithSummary($"Show a {noun}");
        group.MapPut("/{id}", (string id, PrincipalRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct) => ReplaceAsync(kind, id, request, storage, time, ct))
            .WithAuditAction(noun + ".update").WithSummary($"Replace a {noun}'s name, roles and groups; takes effect on its next call");
        group.MapPost("/{id}/disable", (string id, ICofferStorage storage, TimeProvider time, CancellationToken ct) => DisableAsync(kind, id, storage, time, ct))
            .WithAuditAction(noun + ".disable").WithSummary($"Disable a {noun} for good and revoke its tokens");
    }

    private static async Task<Results<Created<PrincipalView>, ProblemHttpResult>> CreateAsync(
        string kind, PrincipalRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var id = CredentialGenerator.NewId(Principal.IdPrefix(kind));
        var (principal, problem) = await ParseAsync(kind, id, request, time.GetUtcNow(), storage, ct);
        if (principal is null)
        {
            return problem!;
        }

        try
        {
            await storage.Principals.AddAsync(principal, ct);
        }
        catch (ConflictException e)
        {
            return Problems.Conflict($"The {kind} was not created: {e.Message}.");
        }

        return TypedResults.Created($"/api/v1/{kind}s/{id}", View(principal));
    }

    private static async Task<Ok<List<PrincipalView>>> ListAsync(string kind, ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.Principals.ListAsync(kind, ct)).Select(View).ToList());

    private static async Task<Results<Ok<PrincipalView>, ProblemHttpResult>> GetAsync(string kind, string id, ICofferStorage storage, CancellationToken ct) =>
        await storage.Principals.GetAsync(id, ct) is { } principal && principal.Kind == kind ? TypedResults.Ok(View(principal)) : NotFound(kind, id);

    private static async Task<Results<Ok<PrincipalView>, ProblemHttpResult>> ReplaceAsync(
        string kind, string id, PrincipalRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (await storage.Principals.GetAsync(id, ct) is not { } existing || existing.Kind != kind)
        {
            return NotFound(kind, id);
        }

        var (principal, problem) = await ParseAsync(kind, id, request, existing.CreatedAt, storage, ct);
        if (principal is null)
        {
            return problem!;
        }

        try
        {
            return await storage.Principals.UpdateAsync(principal, time.GetUtcNow(), ct) switch
            {
                GuardedChange.Done => TypedResults.Ok(View(principal)),
                GuardedChange.WouldLockOut => Problems.Conflict($"The {kind} was not changed: {LockOutRefusal}"),
                _ => Problems.Conflict($"The {kind} '{id}' is disabled; a disabled {kind} cannot be changed."),
            };
        }
        catch (ConflictException e)
        {
            return Problems.Conflict($"The {kind} was not changed: {e.Message}.");
        }
    }

    private static async Task<Results<Ok<PrincipalView>, ProblemHttpResult>> DisableAsync(
        string kind, string id, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (await storage.Principals.GetAsync(id, ct) is not { } existing || existing.Kind != kind)
        {
            return NotFound(kind, id);
        }

        var now = time.GetUtcNow();
        return await storage.Principals.DisableAsync(id, now, ct) switch
        {
            GuardedChange.Done => TypedResults.Ok(View(existing with { DisabledAt = now })),
            GuardedChange.WouldLockOut => Problems.Conflict($"The {kind} was not disabled: {LockOutRefusal}"),
            _ => Problems.Conflict($"The {kind} '{id}' was disabled already."),
        };
    }

    /// <summary>Checks a grant: a known role (built-in or custom) and, when scoped, an existing key store.</summary>
    internal static async Task<ProblemHttpResult?> CheckGrantAsync(RoleGrantBody grant, ICofferStorage storage, CancellationToken ct)
    {
        if (!await storage.Principals.RoleExistsAsync(grant.Role, ct))
        {
            return Problems.BadRequest($"Unknown role '{grant.Role}': a role is one of {string.Join(", ", Roles.All)} or a custom role (GET /api/v1/roles).");
        }

        if (grant.KeyStoreId is not null && await storage.KeyStores.GetKeyStoreAsync(grant.KeyStoreId, ct) is null)
        {
            return Problems.BadRequest($"No key store with id '{grant.KeyStoreId}' exists to scope role '{grant.Role}' to.");
        }

        return null;
    }

    private static async Task<(Principal? Principal, ProblemHttpResult? Problem)> ParseAsync(
        string kind, string id, PrincipalRequest request, DateTimeOffset createdAt, ICofferStorage storage, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxNameLength)
        {
            return (null, Problems.BadRequest($"name is required (1 to {MaxNameLength} characters)."));
        }

        if (request.OidcSubject is not null && (kind != CallerKinds.User || request.OidcSubject.Length is 0 or > 255))
        {
            return (null, Problems.BadRequest("oidcSubject is for users only: the identity provider's 'sub' claim, 1 to 255 characters."));
        }

        var grants = request.Roles ?? [];
        var groups = request.Groups ?? [];
        if (grants.Count > MaxGrants || groups.Count > MaxGroups)
        {
            return (null, Problems.BadRequest($"At most {MaxGrants} roles and {MaxGroups} groups."));
        }

        if (groups.FirstOrDefault(g => !IdentityNames.IsValid(g)) is { } badGroup)
        {
            return (null, Problems.BadRequest($"Group '{badGroup}' is not a valid name: {IdentityNames.Rule}."));
        }

        foreach (var grant in grants)
        {
            if (grant is null)
            {
                return (null, Problems.BadRequest("roles holds objects such as {\"role\": \"auditor\"}, optionally with \"keyStoreId\"; null is not one."));
            }

            if (await CheckGrantAsync(grant, storage, ct) is { } problem)
            {
                return (null, problem);
            }
        }

        return (new Principal(id, kind, request.Name, request.OidcSubject,
            [.. grants.Select(g => new RoleGrant(g.Role!, g.KeyStoreId)).Distinct()], [.. groups.Distinct(StringComparer.Ordinal)], createdAt, null), null);
    }

    private static PrincipalView View(Principal p) =>
        new(p.Id, p.Kind, p.Name, p.OidcSubject, [.. p.Grants.Select(g => new RoleGrantBody(g.Role, g.KeyStoreId))], p.Groups, p.CreatedAt, p.DisabledAt);

    private static ProblemHttpResult NotFound(string kind, string id) => Problems.NotFound($"No {kind} with id '{id}' exists.");
}
