using System.Net;
using Coffer.Auth;
using Coffer.Storage;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Hosting;

/// <summary>
/// Management login through the organisation's identity provider (docs/users.md, "Login through
/// your identity provider"): callers send the IdP's access token (a JWT) as their bearer token. Off
/// when the section is absent.
/// </summary>
public sealed class OidcOptions
{
    /// <summary>The issuer (<c>iss</c>) exactly as the IdP writes it; its discovery document is read
    /// from <c>{Issuer}/.well-known/openid-configuration</c>. https, except for a loopback issuer.</summary>
    public string? Issuer { get; set; }

    /// <summary>The audience (<c>aud</c>) the IdP writes into tokens meant for Coffer.</summary>
    public string? Audience { get; set; }

    /// <summary>The claim that lists the caller's groups (Entra ID app roles arrive in <c>roles</c>), or a
    /// dotted path into a JSON object claim when no claim has that exact name (Keycloak's realm roles:
    /// <c>realm_access.roles</c>).</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>The claim naming the caller in lists and audit details; null tries
    /// <c>preferred_username</c>, then <c>email</c>, then <c>sub</c>.</summary>
    public string? NameClaim { get; set; }

    /// <summary>Which IdP group gives which Coffer role, on every key store or on one.</summary>
    public List<OidcGroupRole> GroupRoles { get; set; } = [];

    /// <summary>Tolerated difference between the IdP's clock and Coffer's for <c>exp</c> and <c>nbf</c>.</summary>
    public int ClockSkewSeconds { get; set; } = 60;

    /// <summary>The least time between two key refetches caused by a token whose key id (<c>kid</c>) is
    /// unknown: a rotated key is picked up at once, a flood of forged key ids costs the IdP one fetch.</summary>
    public int KeyRefreshIntervalSeconds { get; set; } = 60;

    /// <summary>How long one fetch of the discovery document or the key set may take (and one code
    /// exchange at the token endpoint).</summary>
    public int MetadataTimeoutSeconds { get; set; } = 10;

    /// <summary>The client id Coffer is registered under at the IdP for the web console's login
    /// (authorization code with PKCE; docs/console.md, "Login through the identity provider"); the ID
    /// tokens' audience. Null: the console offers only token login.</summary>
    public string? ClientId { get; set; }

    /// <summary>A file holding the client secret, for an IdP that registers Coffer as a confidential
    /// client; null for a public client (PKCE alone).</summary>
    public string? ClientSecretPath { get; set; }

    /// <summary>The path the IdP sends the browser back to, on the console's own address; set it when
    /// a proxy serves Coffer under another path.</summary>
    public string RedirectPath { get; set; } = DefaultRedirectPath;

    /// <summary>The provider's name on the login button ("Log in with …"); null: the issuer's host.</summary>
    public string? DisplayName { get; set; }

    /// <summary>The scopes asked for; <c>openid</c> is required.</summary>
    public string Scope { get; set; } = "openid profile email";

    internal const string DefaultRedirectPath = "/api/v1/session/oidc/callback";

    /// <summary>Whether the web console offers login through the IdP.</summary>
    internal bool HasBrowserLogin => !string.IsNullOrWhiteSpace(ClientId);

    internal string ProviderName => string.IsNullOrWhiteSpace(DisplayName) ? IssuerUri.Host : DisplayName;

    /// <summary>The roles these IdP groups hold under this configuration.</summary>
    internal IReadOnlyList<RoleGrant> GrantsOf(IReadOnlyCollection<string> groups) =>
        [.. GroupRoles.Where(m => groups.Contains(m.Group!, StringComparer.Ordinal)).Select(m => m.Grant).Distinct()];

    internal Uri IssuerUri => new(Issuer!);

    /// <summary>Plain http is accepted only for an issuer on this machine (tests, a local IdP).</summary>
    internal bool RequiresHttps => IssuerUri.Scheme != Uri.UriSchemeHttp;

    internal string MetadataAddress => Issuer!.TrimEnd('/') + "/.well-known/openid-configuration";

    /// <summary>Refuses to start with a mapping to a role that is neither built in nor a custom role of
    /// this database. (A custom role deleted later simply grants nothing.)</summary>
    internal async Task RequireRolesAsync(IPrincipalRepository principals, CancellationToken ct)
    {
        for (var i = 0; i < GroupRoles.Count; i++)
        {
            var role = GroupRoles[i].Role!;
            if (!await principals.RoleExistsAsync(role, ct))
            {
                var custom = (await principals.ListRolesAsync(ct)).Select(r => r.Name);
                throw new OptionsValidationException(nameof(CofferOptions), typeof(CofferOptions),
                    [$"Oidc:GroupRoles:{i}:Role maps group '{GroupRoles[i].Group}' to '{role}', which is not a role; roles are {string.Join(", ", Roles.All.Concat(custom))}."]);
            }
        }
    }

    /// <summary>An https URL, or plain http for a loopback issuer, without query or fragment.</summary>
    internal static bool IsIssuer(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var issuer)
        && (issuer.Scheme == Uri.UriSchemeHttps || (issuer.Scheme == Uri.UriSchemeHttp && IsLoopback(issuer)))
        && string.IsNullOrEmpty(issuer.Query) && string.IsNullOrEmpty(issuer.Fragment);

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}

/// <summary>One mapping: members of <see cref="Group"/> hold <see cref="Role"/>, on <see cref="KeyStoreId"/>
/// only when it is set.</summary>
public sealed class OidcGroupRole
{
    /// <summary>The group exactly as the groups claim carries it (a name, a path, or an Entra ID object id).</summary>
    public string? Group { get; set; }

    public string? Role { get; set; }

    /// <summary>A key store id (<c>ks_…</c>); null grants the role on every key store.</summary>
    public string? KeyStoreId { get; set; }

    internal RoleGrant Grant => new(Role!, KeyStoreId);
}
