using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coffer.Server.Management;

/// <summary>
/// Who may call the management API, on ASP.NET Core's own seams: the <see cref="TokenAuthentication"/>
/// scheme makes the caller, and authorization policies decide. An endpoint that declares a permission
/// (<see cref="EndpointPermissions"/>) gets the default policy, an authenticated caller, plus its
/// <see cref="PermissionRequirement"/>; one that declares nothing falls back to administrators only;
/// <c>AllowAnonymous</c> ones are let through (still authenticated, so they may show more to a caller).
/// </summary>
internal static class ManagementAccess
{
    public static IServiceCollection AddManagementAccess(this IServiceCollection services)
    {
        services.AddSingleton<Authorizer>();
        // QueryParameters reads each endpoint's query parameters from the API description.
        services.AddEndpointsApiExplorer();
        services.AddSingleton<QueryParameters>();
        services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, UnknownPathsPass>();
        services.AddAuthentication(TokenAuthentication.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TokenAuthentication>(TokenAuthentication.SchemeName, configureOptions: null);
        KeepDataProtectionInMemory(services);
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(new PermissionRequirement(null)).Build());
        return services;
    }

    // Authentication brings ASP.NET Core's data protection, whose default makes an unencrypted key ring
    // under ~/.aspnet at start (a hosted service loads it early). Coffer protects nothing with it: its
    // keys stay in memory, and nothing loads a key ring at start.
    // (tests/Coffer.Cli.Tests/DevProcessTests.cs checks that no key ring is written.)
    private static void KeepDataProtectionInMemory(IServiceCollection services)
    {
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        var preload = services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList();
        foreach (var descriptor in preload)
        {
            services.Remove(descriptor);
        }
    }

    /// <summary>After routing: authentication, then the query check (the permission check of a
    /// store-scoped grant reads <c>?keystore=</c>), then authorization; the quorum gate comes after.</summary>
    public static IApplicationBuilder UseManagementAccess(this IApplicationBuilder app)
    {
        app.UseAuthentication();
        app.Use(app.ApplicationServices.GetRequiredService<QueryParameters>().InvokeAsync);
        return app.UseAuthorization();
    }

    /// <summary>The framework applies the fallback policy to a request that matched no endpoint too;
    /// such a request is a 404 whoever asks (as it was before any token), so it is passed on, not
    /// challenged. Every request that reaches an endpoint is answered as the policy decided.</summary>
    private sealed class UnknownPathsPass : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _answers = new();

        public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult) =>
            context.GetEndpoint() is null ? next(context) : _answers.HandleAsync(next, context, policy, authorizeResult);
    }
}
