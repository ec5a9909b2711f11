using System.Text.Json;
using Coffer.Auth;
using Coffer.Server.Hosting;
using Coffer.Server.Services;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Coffer.Server.Management.Oidc;

/// <summary>
/// Checks a management bearer that is a JWT from the configured identity provider: the
/// algorithm (asymmetric only), the signature against the IdP's published keys, issuer, audience and
/// lifetime on Coffer's clock. The discovery document and key set are fetched and kept fresh by
/// <see cref="ConfigurationManager{T}"/>; a token naming an unknown key id refetches them once (key
/// rotation), at most once per <see cref="OidcOptions.KeyRefreshIntervalSeconds"/>.
/// </summary>
/// <remarks>Thread-safe; one per node. Never logs or returns the token or a claim of a token that failed.</remarks>
internal sealed partial class OidcTokenValidator : IDisposable
{
    /// <summary>RSA PKCS#1, RSA-PSS and ECDSA: a verifier that accepts only these cannot be fooled into
    /// HMAC-verifying with the public key as the secret, nor into accepting <c>alg: none</c> (RFC 8725 §3.1).</summary>
    internal static readonly IReadOnlyList<string> AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>The id prefix of a caller known only to the identity provider (no Coffer user has its subject).</summary>
    public const string CallerIdPrefix = "oidc:";

    private static readonly string[] NameClaims = ["preferred_username", "email", JwtRegisteredClaimNames.Sub];

    private readonly OidcOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _configuration;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly Lock _refreshGate = new();
    private DateTimeOffset? _lastForcedRefresh;

    static OidcTokenValidator()
    {
        // Blocking mode: after RequestRefresh the next GetConfigurationAsync waits for the new key set
        // instead of answering from the old one while a background fetch runs, so a token signed with a
        // freshly rotated key is accepted on its first use. Process-wide, and only this class reads it.
        AppContext.SetSwitch(OidcSwitches.UpdateConfigAsBlocking, true);
    }

    public OidcTokenValidator(OidcOptions options, TimeProvider time, ILogger<OidcTokenValidator> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(options.MetadataTimeoutSeconds) };
        var documents = new HttpDocumentRetriever(_http) { RequireHttps = options.RequiresHttps };
        _configuration = new ConfigurationManager<OpenIdConnectConfiguration>(options.MetadataAddress, new OpenIdConnectConfigurationRetriever(), documents)
        {
            // The library's own floor between requested refreshes (wall clock); Coffer's interval,
            // on the server's clock, is enforced in TryStartForcedRefresh.
            RefreshInterval = BaseConfigurationManager.MinimumRefreshInterval,
        };
    }

    /// <summary>Tokens of this node seen valid, so each is recorded as a login once.</summary>
    public OidcSeenTokens SeenTokens { get; } = new();

    /// <summary>Whether <paramref name="bearer"/> has the shape of a JWS in compact form: three
    /// base64url parts (the last empty for <c>alg: none</c>). Coffer tokens have no dots.</summary>
    public static bool LooksLikeJwt(string bearer)
    {
        var dots = 0;
        foreach (var c in bearer)
        {
            if (c == '.')
            {
                dots++;
            }
            else if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return dots == 2 && bearer[0] != '.' && !bearer.Contains("..", StringComparison.Ordinal);
    }

    /// <summary>An access token sent as a management bearer: for <see cref="OidcOptions.Audience"/>.</summary>
    public Task<OidcResult> ValidateAsync(string jwt, CancellationToken ct) => ValidateAsync(jwt, _options.Audience!, null, ct);

    /// <summary>The ID token of a console login (docs/console.md, "Login through the identity provider"):
    /// checked as an access token is, for the client id as audience, and carrying the login's nonce
    /// (OpenID Connect Core 1.0, §3.1.3.7), so a token made for another login is refused.</summary>
    public Task<OidcResult> ValidateIdTokenAsync(string jwt, string nonce, CancellationToken ct) => ValidateAsync(jwt, _options.ClientId!, nonce, ct);

    /// <summary>The IdP's authorization and token endpoints, from its discovery document; null while it
    /// cannot be reached and nothing is cached, or when it names none.</summary>
    public async Task<(Uri Authorization, Uri Token)?> LoginEndpointsAsync(CancellationToken ct) =>
        await ConfigurationAsync(ct) is { } configuration
        && Uri.TryCreate(configuration.AuthorizationEndpoint, UriKind.Absolute, out var authorization)
        && Uri.TryCreate(configuration.TokenEndpoint, UriKind.Absolute, out var token)
            ? (authorization, token)
            : null;

    private async Task<OidcResult> ValidateAsync(string jwt, string audience, string? nonce, CancellationToken ct)
    {
        JsonWebToken token;
        try
        {
            token = _handler.ReadJsonWebToken(jwt);
        }
        catch (ArgumentException)
        {
            return OidcResult.Refused(OidcRefusal.Malformed);
        }

        // Before any key is looked at: the algorithm is the attacker's choice until checked.
        if (!AllowedAlgorithms.Contains(token.Alg))
        {
            return OidcResult.Refused(OidcRefusal.AlgorithmNotAllowed);
        }

        var configuration = await ConfigurationAsync(ct);
        if (configuration is null)
        {
            return OidcResult.Refused(OidcRefusal.IdpUnreachable);
        }

        if (!string.IsNullOrEmpty(token.Kid) && !HasKey(configuration, token.Kid))
        {
            if (TryStartForcedRefresh())
            {
                Log.UnknownKeyRefresh(_logger);
                _configuration.RequestRefresh();
                configuration = await ConfigurationAsync(ct) ?? configuration;
            }

            if (!HasKey(configuration, token.Kid))
            {
                return OidcResult.Refused(OidcRefusal.UnknownKey);
            }
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(configuration, audience));
        if (!result.IsValid)
        {
            var refusal = RefusalOf(result.Exception);
            if (refusal == OidcRefusal.Invalid)
            {
                // The type only: the library's messages may quote claims of a token that failed.
#pragma warning disable CA1873 // a refusal of an unforeseen kind is rare; its log line is always wanted
                Log.Refused(_logger, result.Exception?.GetType().Name ?? "unknown");
#pragma warning restore CA1873
            }

            return OidcResult.Refused(refusal);
        }

        var subject = token.Subject;
        if (string.IsNullOrEmpty(subject))
        {
            return OidcResult.Refused(OidcRefusal.NoSubject);
        }

        if (nonce is not null && !(token.TryGetPayloadValue<string>("nonce", out var carried) && ConstantTime.TextEquals(carried, nonce)))
        {
            return OidcResult.Refused(OidcRefusal.WrongNonce);
        }

        var groups = GroupsOf(token, _options.GroupsClaim);
        return OidcResult.Valid(new OidcIdentity(subject, NameOf(token, subject), groups, _options.GrantsOf(groups), new DateTimeOffset(token.ValidTo, TimeSpan.Zero)));
    }

    /// <summary>
    /// The values of the groups claim: a top-level claim of exactly that name first (Auth0's namespaced
    /// claims are URLs, dots included); else a dotted path into a JSON object claim, as Keycloak puts
    /// realm roles in <c>realm_access.roles</c> and client roles in <c>resource_access.{client}.roles</c>.
    /// A path that leads to no string or array of strings gives no groups.
    /// </summary>
    internal static List<string> GroupsOf(JsonWebToken token, string claim)
    {
        // An object is no group; an array arrives as one claim per element.
        var groups = token.Claims.Where(c => c.Type == claim && c.ValueType != JsonClaimValueTypes.Json).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        var dot = claim.IndexOf('.', StringComparison.Ordinal);
        if (groups.Count > 0 || dot <= 0
            || token.Claims.FirstOrDefault(c => c.Type == claim[..dot] && c.ValueType == JsonClaimValueTypes.Json) is not { } outer)
        {
            return groups;
        }

        try
        {
            using var json = JsonDocument.Parse(outer.Value);
            var node = json.RootElement;
            foreach (var name in claim[(dot + 1)..].Split('.'))
            {
                if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(name, out node))
                {
                    return groups;
                }
            }

            return node.ValueKind switch
            {
                JsonValueKind.String => [node.GetString()!],
                JsonValueKind.Array => [.. node.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Distinct(StringComparer.Ordinal)],
                _ => groups,
            };
        }
        catch (JsonException)
        {
            return groups; // a signed token's claim that is not JSON after all: no groups from it
        }
    }

    /// <summary>The cached (or first fetched) discovery document and keys; null when the IdP could not
    /// be reached and nothing is cached. The library backs off between failed fetches.</summary>
    private async Task<OpenIdConnectConfiguration?> ConfigurationAsync(CancellationToken ct)
    {
        try
        {
            return await _configuration.GetConfigurationAsync(ct);
        }
        catch (InvalidOperationException e)
        {
            Log.IdpUnreachable(_logger, _options.MetadataAddress, e.InnerException?.GetType().Name ?? e.GetType().Name);
            return null;
        }
    }

    /// <summary>Whether a refetch for an unknown key id may run now: at most one per interval, so a flood
    /// of tokens with made-up key ids reaches the IdP once, not once each.</summary>
    private bool TryStartForcedRefresh()
    {
        var now = _time.GetUtcNow();
        lock (_refreshGate)
        {
            if (_lastForcedRefresh is { } last && now - last < TimeSpan.FromSeconds(_options.KeyRefreshIntervalSeconds))
            {
                return false;
            }

            _lastForcedRefresh = now;
            return true;
        }
    }

    private static bool HasKey(OpenIdConnectConfiguration configuration, string kid) =>
        configuration.SigningKeys.Any(k => string.Equals(k.KeyId, kid, StringComparison.Ordinal));

    private TokenValidationParameters Parameters(OpenIdConnectConfiguration configuration, string audience) => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = audience,
        IssuerSigningKeys = configuration.SigningKeys,
        ValidAlgorithms = AllowedAlgorithms,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ClockSkew = TimeSpan.FromSeconds(_options.ClockSkewSeconds),
        LifetimeValidator = ValidateLifetime,
    };

    /// <summary>exp and nbf on the server's clock (tests drive it), with the configured skew; throws the
    /// library's own exceptions so the refusal reason is the same as its validator's would be.</summary>
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiry (exp).");
        }

        if (expires.Value.Add(parameters.ClockSkew) <= now)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
        }

        if (notBefore is { } nbf && nbf.Subtract(parameters.ClockSkew) > now)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
        }

        return true;
    }

    private string NameOf(JsonWebToken token, string subject)
    {
        foreach (var claim in _options.NameClaim is { } configured ? [configured] : NameClaims)
        {
            if (token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrWhiteSpace(value))
            {
                return value;
            }
        }

        return subject;
    }

    private static OidcRefusal RefusalOf(Exception? e) => e switch
    {
        SecurityTokenExpiredException => OidcRefusal.Expired,
        SecurityTokenNotYetValidException => OidcRefusal.NotYetValid,
        SecurityTokenNoExpirationException => OidcRefusal.NoExpiry,
        SecurityTokenInvalidIssuerException => OidcRefusal.WrongIssuer,
        SecurityTokenInvalidAudienceException => OidcRefusal.WrongAudience,
        SecurityTokenInvalidAlgorithmException => OidcRefusal.AlgorithmNotAllowed,
        SecurityTokenSignatureKeyNotFoundException => OidcRefusal.UnknownKey,
        SecurityTokenInvalidSignatureException => OidcRefusal.BadSignature,
        _ => OidcRefusal.Invalid,
    };

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "The identity provider's discovery document or keys could not be fetched from {Address} ({Error}); identity-provider logins are refused until it answers")]
        public static partial void IdpUnreachable(ILogger logger, string address, string error);

        [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "A token names a key id the identity provider's key set lacks; refetching the key set (key rotation)")]
        public static partial void UnknownKeyRefresh(ILogger logger);

        [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "An identity-provider token was refused ({Exception})")]
        public static partial void Refused(ILogger logger, string exception);
    }
}

/// <summary>Who a valid identity-provider token stands for.</summary>
/// <param name="Subject">The IdP's stable id of the person (<c>sub</c>).</param>
/// <param name="Name">From the configured name claim, else preferred_username, email or sub.</param>
/// <param name="Groups">The groups claim's values, as the IdP wrote them.</param>
/// <param name="Grants">The roles those groups map to (<see cref="OidcOptions.GroupRoles"/>).</param>
/// <param name="ExpiresAt">The token's <c>exp</c>.</param>
internal sealed record OidcIdentity(string Subject, string Name, IReadOnlyList<string> Groups, IReadOnlyList<RoleGrant> Grants, DateTimeOffset ExpiresAt);

/// <summary>Why an identity-provider token was refused; the audit reason is <see cref="OidcRefusals.Text"/>.</summary>
internal enum OidcRefusal
{
    None,
    Malformed,
    AlgorithmNotAllowed,
    IdpUnreachable,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    NoExpiry,
    WrongIssuer,
    WrongAudience,
    NoSubject,
    WrongNonce,
    Invalid,
}

internal static class OidcRefusals
{
    /// <summary>The reason as audit records and problem answers give it.</summary>
    public static string Text(OidcRefusal refusal) => refusal switch
    {
        OidcRefusal.Malformed => "malformed token",
        OidcRefusal.AlgorithmNotAllowed => "algorithm not allowed",
        OidcRefusal.IdpUnreachable => "IdP unreachable",
        OidcRefusal.UnknownKey => "unknown key",
        OidcRefusal.BadSignature => "bad signature",
        OidcRefusal.Expired => "expired",
        OidcRefusal.NotYetValid => "not yet valid",
        OidcRefusal.NoExpiry => "no expiry",
        OidcRefusal.WrongIssuer => "wrong issuer",
        OidcRefusal.WrongAudience => "wrong audience",
        OidcRefusal.NoSubject => "no subject",
        OidcRefusal.WrongNonce => "wrong nonce",
        _ => "invalid token",
    };
}

/// <summary>The identity of a valid token, or why it was refused.</summary>
internal readonly record struct OidcResult(OidcIdentity? Identity, OidcRefusal Refusal)
{
    public static OidcResult Valid(OidcIdentity identity) => new(identity, OidcRefusal.None);

    public static OidcResult Refused(OidcRefusal refusal) => new(null, refusal);
}
