using Coffer.Auth;
using Coffer.Secrets;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>Management login through the identity provider (<see cref="OidcOptions"/>), when configured.
/// Whether a mapped custom role exists is for the database to say, once it is open
/// (<see cref="OidcOptions.RequireRolesAsync"/>).</summary>
internal sealed class OidcOptionsValidator : IValidateOptions<CofferOptions>
{
    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var problems = new OptionsProblems();
        if (options.Oidc is not { } oidc)
        {
            return problems.Result;
        }

        problems.Require(OidcOptions.IsIssuer(oidc.Issuer),
            $"Oidc:Issuer must be the identity provider's https URL (plain http only for a loopback issuer), without query or fragment; got '{oidc.Issuer}'.");
        problems.Require(!string.IsNullOrWhiteSpace(oidc.Audience),
            "Oidc:Audience is required: the 'aud' value the identity provider puts into tokens for Coffer (e.g. api://coffer).");
        problems.Require(!string.IsNullOrWhiteSpace(oidc.GroupsClaim),
            "Oidc:GroupsClaim must name a claim (default 'groups'; Entra ID app roles are in 'roles').");
        problems.Require(oidc.NameClaim is null || !string.IsNullOrWhiteSpace(oidc.NameClaim),
            "Oidc:NameClaim must name a claim, or be left out (preferred_username, then email, then sub).");
        problems.Require(oidc.ClockSkewSeconds is >= 0 and <= 300, $"Oidc:ClockSkewSeconds must be 0..300, not {oidc.ClockSkewSeconds}.");
        problems.Require(oidc.KeyRefreshIntervalSeconds is >= 1 and <= 86_400, $"Oidc:KeyRefreshIntervalSeconds must be 1..86400, not {oidc.KeyRefreshIntervalSeconds}.");
        problems.Require(oidc.MetadataTimeoutSeconds is >= 1 and <= 120, $"Oidc:MetadataTimeoutSeconds must be 1..120, not {oidc.MetadataTimeoutSeconds}.");
        problems.Require(oidc.ClientId is null || !string.IsNullOrWhiteSpace(oidc.ClientId),
            "Oidc:ClientId must be the client id Coffer is registered under at the identity provider, or be left out (no login through it in the web console).");
        if (oidc.ClientSecretPath is { } secretPath)
        {
            problems.Require(oidc.ClientId is not null,
                "Oidc:ClientSecretPath needs Oidc:ClientId: the secret authenticates that client, for the web console's login through the identity provider.");
            var exists = File.Exists(secretPath);
            problems.Require(exists,
                $"Oidc:ClientSecretPath '{secretPath}' must name the file holding the client secret; there is no such file.");
            problems.Require(!exists || !SecretFile.IsOpenToOthers(secretPath),
                $"Oidc:ClientSecretPath '{secretPath}' is readable or writable by other users; chmod 600 it.");
        }

        problems.Require(oidc.RedirectPath.StartsWith('/') && !oidc.RedirectPath.StartsWith("//", StringComparison.Ordinal)
            && oidc.RedirectPath.IndexOfAny(['?', '#', ' ']) < 0,
            $"Oidc:RedirectPath must be a path on Coffer's own address, starting with '/', without query or fragment; got '{oidc.RedirectPath}'.");
        problems.Require(oidc.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid", StringComparer.Ordinal),
            $"Oidc:Scope must contain 'openid' (an ID token is what the login checks); got '{oidc.Scope}'.");
        for (var i = 0; i < oidc.GroupRoles.Count; i++)
        {
            var mapping = oidc.GroupRoles[i];
            var path = $"Oidc:GroupRoles:{i}";
            problems.Require(!string.IsNullOrWhiteSpace(mapping.Group),
                $"{path}:Group is required: the group as the '{nameof(OidcOptions.GroupsClaim)}' claim carries it.");
            problems.Require(Roles.IsBuiltIn(mapping.Role) || IdentityNames.IsValid(mapping.Role),
                $"{path}:Role maps group '{mapping.Group}' to '{mapping.Role}', which is not a role; roles are {string.Join(", ", Roles.All)} or a custom role's name.");
            problems.Require(mapping.KeyStoreId is null || (mapping.KeyStoreId.StartsWith("ks_", StringComparison.Ordinal) && mapping.KeyStoreId.Length > 3),
                $"{path}:KeyStoreId '{mapping.KeyStoreId}' is not a key store id (ks_…); leave it out to grant the role on every key store.");
        }

        return problems.Result;
    }
}
