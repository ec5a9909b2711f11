using System.Security.Claims;
using Coffer.Auth;

namespace Coffer.Server.Management;

/// <summary>
/// The identity a management call is authenticated as: the <see cref="Auth.Caller"/> that endpoints,
/// audit records and approvals use, carried by the request's <see cref="ClaimsPrincipal"/> so the
/// framework's authorization and Coffer's code see one caller. Its claims are the caller's id and name
/// only, never a token.
/// </summary>
internal sealed class CallerIdentity : ClaimsIdentity
{
    private CallerIdentity(Caller caller)
        : base([new Claim(ClaimTypes.NameIdentifier, caller.Id), new Claim(ClaimTypes.Name, caller.Name)], TokenAuthentication.SchemeName) =>
        Caller = caller;

    public Caller Caller { get; }

    /// <summary>The principal of a request made by <paramref name="caller"/>.</summary>
    public static ClaimsPrincipal Principal(Caller caller) => new(new CallerIdentity(caller));

    /// <summary>The caller <paramref name="user"/> stands for, or null (not authenticated).</summary>
    public static Caller? Of(ClaimsPrincipal user) => user.Identities.OfType<CallerIdentity>().FirstOrDefault()?.Caller;

    /// <summary>A copy keeps the caller: the framework clones identities when it merges principals.</summary>
    public override ClaimsIdentity Clone() => new CallerIdentity(Caller);
}
