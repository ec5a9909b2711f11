using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Management;

/// <summary>The caller holds <see cref="Permission"/> on the key store the call is about, or on every
/// key store (<see cref="Authorizer"/>); null asks for an administrator.</summary>
internal sealed record PermissionRequirement(string? Permission) : IAuthorizationRequirement;

/// <summary>Meets a <see cref="PermissionRequirement"/> with the caller's grants. The resource is the
/// request, whose route (and <c>?keystore=</c>) says which key store the call is about.</summary>
internal sealed class PermissionHandler(Authorizer authorizer) : AuthorizationHandler<PermissionRequirement, HttpContext>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement, HttpContext resource)
    {
        if (CallerIdentity.Of(context.User) is { } caller && await authorizer.AllowsAsync(caller, requirement.Permission, resource))
        {
            context.Succeed(requirement);
        }
    }
}
