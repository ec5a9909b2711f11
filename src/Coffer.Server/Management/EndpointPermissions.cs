using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Coffer.Server.Management;

/// <summary>The permission an endpoint needs: a requirement of its authorization policy
/// (<see cref="PermissionRequirement"/>), met when the caller's roles hold it. An endpoint carries at
/// most one: the most specific declaration wins (an endpoint's over its group's).</summary>
internal sealed record RequiredPermission(string Permission) : IAuthorizationRequirementData
{
    public IEnumerable<IAuthorizationRequirement> GetRequirements() => [new PermissionRequirement(Permission)];
}

/// <summary>Marks an endpoint any authenticated caller may call, whatever its roles: it tells the
/// caller only about itself.</summary>
internal sealed record AnyCaller;

/// <summary>
/// How endpoints declare who may call them. Every endpoint needs an authenticated caller unless it is
/// <c>AllowAnonymous</c>; <see cref="RequirePermission{TBuilder}"/> adds the permission, and an endpoint
/// that declares nothing is for administrators only (the fallback policy, ManagementAccess), so a new
/// endpoint is never open by accident.
/// </summary>
internal static class EndpointPermissions
{
    /// <summary>The OpenAPI name of the bearer security scheme.</summary>
    public const string SecurityScheme = "bearer";

    /// <summary>Declares the permission callers need; without one, only administrators may call.</summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, string permission)
        where TBuilder : IEndpointConventionBuilder =>
        Declare(builder, new RequiredPermission(permission));

    /// <summary>Lets every caller with a valid token call, with no permission (<see cref="AnyCaller"/>).</summary>
    public static TBuilder RequireAnyCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        Declare(builder, new AnyCaller());

    /// <summary>What a caller needs for an endpoint with this metadata, in words: the text of the OpenAPI
    /// summaries and of a 403.</summary>
    public static string Needs(IEnumerable<object> metadata)
    {
        var declared = metadata.ToList();
        return declared.OfType<IAllowAnonymous>().Any() ? "none, no token"
            : declared.OfType<AnyCaller>().Any() ? "none, any valid token"
            : declared.OfType<RequiredPermission>().LastOrDefault()?.Permission ?? "administrator";
    }

    /// <summary>Ends each operation's summary in the OpenAPI document with the permission it needs, and
    /// names the bearer scheme on every operation that needs a token, read from the same metadata the
    /// authorization uses, so the document cannot disagree with the server.</summary>
    public static Task DocumentPermission(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.Summary = $"{operation.Summary} (permission: {Needs(metadata)})";
        if (!metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, context.Document)] = [] }];
        }

        return Task.CompletedTask;
    }

    /// <summary>Describes the bearer scheme once, in the document's components.</summary>
    public static Task DocumentBearerScheme(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.AddComponent<IOpenApiSecurityScheme>(SecurityScheme, new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A Coffer management token (COFFER_TOKEN for the CLI) or, when OIDC is configured, the identity provider's JWT.",
        });
        return Task.CompletedTask;
    }

    /// <summary>An endpoint's declaration replaces its group's (group conventions run first), so the
    /// endpoint's policy holds one requirement of this kind; the authorization metadata makes the
    /// default policy (an authenticated caller) apply instead of the fallback one.</summary>
    private static TBuilder Declare<TBuilder>(TBuilder builder, object declaration)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            foreach (var earlier in endpoint.Metadata.Where(m => m is RequiredPermission or AnyCaller).ToList())
            {
                endpoint.Metadata.Remove(earlier);
            }

            endpoint.Metadata.Add(declaration);
        });
        return builder.RequireAuthorization();
    }
}
