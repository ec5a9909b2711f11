using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/tokens: management API tokens for people and apps, each with a role (issue 7). A token is
/// shown once when created; only its SHA-256 is stored. The last valid administrator token cannot be
/// revoked, so the root token from init goes once another administrator exists.
/// </summary>
internal static class TokenEndpoints
{
    private const int MaxNameLength = 128;
    private const int MaxExpiryDays = 3660;

    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/tokens").WithTags("Tokens").RequirePermission(Permissions.TokensWrite);
        group.MapPost("", CreateAsync).WithAuditAction("token.create")
            .WithSummary("Create a token with a role (administrator, key-officer, approver, auditor, operator) and an optional expiry; the answer holds the token, shown once");
        group.MapGet("", ListAsync).RequirePermission(Permissions.TokensRead)
            .WithSummary("List tokens with their roles, expiry and revocation, never the tokens");
        group.MapDelete("/{id}", RevokeAsync).WithAuditAction("token.revoke")
            .WithSummary("Revoke a token at once; the last valid administrator token cannot be revoked");
    }

    private static async Task<Results<Created<CreatedToken>, ProblemHttpResult>> CreateAsync(
        CreateTokenRequest request, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > MaxNameLength)
        {
            return Problems.BadRequest($"name is required (1 to {MaxNameLength} characters): who or what uses the token.");
        }

        if (!Roles.IsKnown(request.Role))
        {
            return Problems.BadRequest("role is one of " + string.Join(", ", Roles.All) + ".");
        }

        if (request.ExpiresInDays is < 1 or > MaxExpiryDays)
        {
            return Problems.BadRequest($"expiresInDays is 1 to {MaxExpiryDays} (or absent: no expiry).");
        }

        var now = time.GetUtcNow();
        var secret = CredentialGenerator.NewApiToken();
        var token = new ApiToken(CredentialGenerator.NewId("tok"), request.Name, ApiTokenHash.Of(secret), request.Role!, now,
            request.ExpiresInDays is { } days ? now.AddDays(days) : null, null);
        await storage.System.AddTokenAsync(token, ct);
        return TypedResults.Created($"/api/v1/tokens/{token.Id}", new CreatedToken(token.Id, token.Name, token.Role, secret, token.ExpiresAt));
    }

    private static async Task<Ok<List<TokenView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.System.ListTokensAsync(ct)).Select(t => new TokenView(t.Id, t.Name, t.Role, t.CreatedAt, t.ExpiresAt, t.RevokedAt)).ToList());

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, ICofferStorage storage, TimeProvider time, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var tokens = await storage.System.ListTokensAsync(ct);
        var token = tokens.FirstOrDefault(t => t.Id == id);
        if (token is null)
        {
            return Problems.NotFound($"No token with id '{id}' exists.");
        }

        if (token.Role == Roles.Administrator && token.IsValidAt(now) && !tokens.Any(t => t.Id != id && t.Role == Roles.Administrator && t.IsValidAt(now)))
        {
            return Problems.Conflict("This is the last valid administrator token; create another administrator token first, or no one could manage Coffer.");
        }

        return await storage.System.RevokeTokenAsync(id, now, ct) ? TypedResults.NoContent() : Problems.Conflict($"Token '{id}' was revoked already.");
    }
}
