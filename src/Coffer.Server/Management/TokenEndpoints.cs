using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/tokens: management API tokens. A token stands for itself with one role (on every
/// key store or on one), or for a user or app whose roles it carries. A token is shown once when
/// created; only its SHA-256 is stored. The last way in as administrator cannot be revoked, so the
/// root token from init goes once another administrator exists.
/// </summary>
internal static class TokenEndpoints
{
    private const int MaxNameLength = 128;
    private const int MaxExpiryDays = 3660;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/tokens").WithTags("Tokens").RequirePermission(Permissions.TokensWrite);
        group.MapPost("", CreateAsync).WithAuditAction("token.create")
            .WithSummary("Create a token with a role (optionally on one key store) or for a user or app, with an optional expiry; the answer holds the token, shown once");
        group.MapGet("", ListAsync).RequirePermission(Permissions.TokensRead)
            .WithSummary("List tokens with their roles, expiry and revocation, never the tokens");
        group.MapDelete("/{id}", RevokeAsync).WithAuditAction("token.revoke")
            .WithSummary("Revoke a token at once; refused when no administrator would remain");
    }

    private static async Task<Results<Created<CreatedToken>, ProblemHttpResult>> CreateAsync(
        CreateTokenRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxNameLength)
        {
            return Problems.BadRequest($"name is required (1 to {MaxNameLength} characters): who or what uses the token.");
        }

        if (request.ExpiresInDays is < 1 or > MaxExpiryDays)
        {
            return Problems.BadRequest($"expiresInDays is 1 to {MaxExpiryDays} (or absent: no expiry).");
        }

        if ((request.Role is null) == (request.Owner is null))
        {
            return Problems.BadRequest("Give either role (the token stands for itself) or owner (a user or app id: the token stands for it).");
        }

        var problem = request.Owner is not null
            ? await CheckOwnerAsync(request, storage, ct)
            : await PrincipalEndpoints.CheckGrantAsync(new RoleGrantBody(request.Role, request.KeyStoreId), storage, ct);
        if (problem is not null)
        {
            return problem;
        }

        var now = time.GetUtcNow();
        var secret = CredentialGenerator.NewApiToken();
        var token = new ApiToken(CredentialGenerator.NewId("tok"), request.Name, ApiTokenHash.Of(secret), request.Role, now,
            request.ExpiresInDays is { } days ? now.AddDays(days) : null, null, request.Owner, request.KeyStoreId);
        try
        {
            await storage.System.AddTokenAsync(token, ct);
        }
        catch (ConflictException e)
        {
            return Problems.Conflict($"The token was not created: {e.Message}.");
        }

        return TypedResults.Created($"/api/v1/tokens/{token.Id}",
            new CreatedToken(token.Id, token.Name, token.Role, secret, token.ExpiresAt, token.OwnerId, token.KeyStoreId));
    }

    private static async Task<ProblemHttpResult?> CheckOwnerAsync(CreateTokenRequest request, ICofferStorage storage, CancellationToken ct)
    {
        if (request.KeyStoreId is not null)
        {
            return Problems.BadRequest("keyStoreId goes with role only: a token of a user or app carries the owner's own roles and scopes.");
        }

        return await storage.Principals.GetAsync(request.Owner!, ct) switch
        {
            null => Problems.NotFound($"No user or app with id '{request.Owner}' exists."),
            { IsEnabled: false } => Problems.Conflict($"'{request.Owner}' is disabled; it can hold no new token."),
            _ => null,
        };
    }

    private static async Task<Ok<List<TokenView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.System.ListTokensAsync(ct))
            .Select(t => new TokenView(t.Id, t.Name, t.Role, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.OwnerId, t.KeyStoreId)).ToList());

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, ICofferStorage storage, TimeProvider time, CancellationToken ct) =>
        await storage.System.RevokeTokenAsync(id, time.GetUtcNow(), ct) switch
        {
            GuardedChange.Done => TypedResults.NoContent(),
            GuardedChange.WouldLockOut => Problems.Conflict("The token was not revoked: " + PrincipalEndpoints.LockOutRefusal),
            _ => (await storage.System.ListTokensAsync(ct)).Any(t => t.Id == id)
                ? Problems.Conflict($"Token '{id}' was revoked already.")
                : Problems.NotFound($"No token with id '{id}' exists."),
        };
}
