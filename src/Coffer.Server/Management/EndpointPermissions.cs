using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Coffer.Server.Management;

/// <summary>The permission an endpoint needs; checked by <see cref="TokenAuthentication"/>
/// against the caller's role. The most specific declaration wins (an endpoint's over its group's).</summary>
internal sealed record RequiredPermission(string Permission);

/// <summary>Marks an endpoint any authenticated caller may call, whatever its roles: it tells the
/// caller only about itself.</summary>
internal sealed record AnyCaller;

internal static class EndpointPermissions
{
    /// <summary>Declares the permission callers need; without one, only administrators may call.</summary>
    public static TBuilder RequirePermission<TBuilder>(this TBuilder builder, string permission)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredPermission(permission));

    /// <summary>Lets every caller with a valid token call, with no permission (<see cref="AnyCaller"/>).</summary>
    public static TBuilder RequireAnyCaller<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AnyCaller());

    /// <summary>Ends each operation's summary in the OpenAPI document with the permission it needs, read
    /// from the same metadata the check uses, so the document cannot disagree with the server.</summary>
    public static Task DocumentPermission(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var needs = metadata.OfType<IAllowAnonymous>().Any() ? "none, no token"
            : metadata.OfType<AnyCaller>().Any() ? "none, any valid token"
            : metadata.OfType<RequiredPermission>().LastOrDefault()?.Permission ?? "administrator";
        operation.Summary = $"{operation.Summary} (permission: {needs})";
        return Task.CompletedTask;
    }
}
