using Coffer.Auth;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Management;

/// <summary>
/// Authenticates management calls with <c>Authorization: Bearer &lt;token&gt;</c>. Tokens are looked
/// up by their SHA-256, so the database never holds a usable token.
/// </summary>
internal sealed class BearerTokenFilter(ICofferStorage storage, TimeProvider time) : IEndpointFilter
{
    public const string TokenItem = "coffer.token";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var token = await AuthenticateAsync(http);
        if (token is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Unauthorized("A valid management token is required: send 'Authorization: Bearer <token>' (COFFER_TOKEN for the CLI).");
        }

        http.Items[TokenItem] = token;
        return await next(context);
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
