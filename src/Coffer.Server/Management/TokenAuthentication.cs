using Coffer.Auth;
using Coffer.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Management;

/// <summary>
/// Authenticates management calls with <c>Authorization: Bearer &lt;token&gt;</c>. Tokens are looked
/// up by their SHA-256, so the database never holds a usable token. Runs as middleware after
/// routing and before the endpoint, so an unauthenticated caller learns nothing from how its body
/// would have been parsed; endpoints marked <c>AllowAnonymous</c> are let through.
/// </summary>
internal sealed class TokenAuthentication(ICofferStorage storage, TimeProvider time)
{
    public const string TokenItem = "coffer.token";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            await next(context);
            return;
        }

        var token = await AuthenticateAsync(context);
        if (token is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Unauthorized("A valid management token is required: send 'Authorization: Bearer <token>' (COFFER_TOKEN for the CLI).")
                .ExecuteAsync(context);
            return;
        }

        context.Items[TokenItem] = token;
        await next(context);
    }

    /// <summary>The caller's valid token, or null.</summary>
    public async Task<ApiToken?> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length is 0 or > 512)
        {
            return null;
        }

        var token = await storage.System.FindTokenByHashAsync(ApiTokenHash.Of(presented), http.RequestAborted);
        return token is not null && token.IsValidAt(time.GetUtcNow()) ? token : null;
    }
}
