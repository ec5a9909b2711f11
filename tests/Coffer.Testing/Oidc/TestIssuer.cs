using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Coffer.Server.Management.Oidc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Coffer.Testing.Oidc;

/// <summary>
/// A small OpenID Connect issuer on loopback for tests: a real Kestrel app serving
/// <c>/.well-known/openid-configuration</c> and its JWKS, signing access tokens with an RSA key (RS256)
/// or an EC P-256 key (ES256). <see cref="RotateRsaKey"/> replaces the RSA key with a new one under a new
/// key id, as an IdP's key rotation does. Token times come from the given clock, so tests can drive
/// Coffer and the issuer with one fake clock.
/// </summary>
/// <remarks>
/// For the console's login (authorization code with PKCE) it also serves <c>/authorize</c>, which
/// approves <see cref="SignInAs"/> at once and sends the browser back with a one-time code, and
/// <c>/token</c>, which gives that code's ID token only for the verifier whose S256 challenge came with
/// it, the same client and the same redirect address, once. With a <see cref="ClientSecret"/> it is a
/// confidential client's IdP: <c>/token</c> first wants that client's id and secret as HTTP Basic.
/// </remarks>
public sealed class TestIssuer : IAsyncDisposable
{
    public const string DefaultAudience = "api://coffer-tests";

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private RsaSecurityKey _rsa;
    private readonly ECDsaSecurityKey _ec;
    private readonly Dictionary<string, PendingCode> _codes = new(StringComparer.Ordinal);
    private int _jwksFetches;
    private int _rotations;

    static TestIssuer()
    {
        // Microsoft.IdentityModel reads its switches once per process, at first use; this issuer uses the
        // library before any Coffer node does, so it sets what OidcTokenValidator sets (blocking key
        // refresh) first — otherwise the order tests run in would decide how Coffer refreshes keys.
        AppContext.SetSwitch(OidcSwitches.UpdateConfigAsBlocking, true);
    }

    private TestIssuer(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
        _rsa = NewRsaKey("rsa-1");
        _ec = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ec-1" };
    }

    /// <summary>The issuer URL (<c>iss</c>), e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Issuer { get; private set; } = "";

    /// <summary>Who <c>/authorize</c> signs in, and the ID token's claims (its <see cref="TokenSpec.Audience"/>
    /// should be the client id); null: the authorization endpoint answers <c>access_denied</c>.</summary>
    public TokenSpec? SignInAs { get; set; }

    /// <summary>The secret <c>/token</c> requires with the client id as HTTP Basic (client_secret_basic,
    /// RFC 6749 §2.3.1), answering 401 <c>invalid_client</c> without it; null: a public client, PKCE alone.</summary>
    public string? ClientSecret { get; set; }

    /// <summary>The last ID token <c>/token</c> gave (tests check it reaches no log or record).</summary>
    public string? LastIdToken { get; private set; }

    /// <summary>How often the JWKS was fetched (Coffer's key refreshes).</summary>
    public int JwksFetches => Volatile.Read(ref _jwksFetches);

    /// <summary>The RSA key tokens are signed with now (and its id).</summary>
    public RsaSecurityKey RsaKey
    {
        get
        {
            lock (_gate)
            {
                return _rsa;
            }
        }
    }

    public ECDsaSecurityKey EcKey => _ec;

    public static async Task<TestIssuer> StartAsync(TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var issuer = new TestIssuer(app, time ?? TimeProvider.System);
        app.MapGet("/.well-known/openid-configuration", issuer.DiscoveryAsync);
        app.MapGet("/jwks", issuer.JwksAsync);
        app.MapGet("/authorize", issuer.Authorize);
        app.MapPost("/token", async http => await issuer.Exchange(http.Request.Headers.Authorization.ToString(), await http.Request.ReadFormAsync()).ExecuteAsync(http));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        issuer.Issuer = address.TrimEnd('/');
        return issuer;
    }

    /// <summary>Replaces the RSA signing key with a new one under a new key id; the old key leaves the JWKS.</summary>
    public void RotateRsaKey()
    {
        lock (_gate)
        {
            _rotations++;
            _rsa = NewRsaKey("rsa-" + (_rotations + 1));
        }
    }

    /// <summary>A new RSA key that is not in the JWKS (for "signed by a key the IdP does not publish").</summary>
    public static RsaSecurityKey NewRsaKey(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    /// <summary>A signed access token; every part can be changed to make a bad one.</summary>
    public string Token(TokenSpec? spec = null)
    {
        spec ??= new TokenSpec();
        var now = _time.GetUtcNow().UtcDateTime;
        SecurityKey key = spec.Key ?? (spec.Algorithm.StartsWith("ES", StringComparison.Ordinal) ? _ec : RsaKey);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { ["sub"] = spec.Subject };
        if (spec.Groups is not null)
        {
            claims[spec.GroupsClaim] = spec.Groups;
        }

        if (spec.PreferredUsername is not null)
        {
            claims["preferred_username"] = spec.PreferredUsername;
        }

        foreach (var (name, value) in spec.OtherClaims)
        {
            claims[name] = value;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = spec.Issuer ?? Issuer,
            Audience = spec.Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now + spec.NotBeforeIn,
            Expires = now + spec.ExpiresIn,
            SigningCredentials = new SigningCredentials(key, spec.Algorithm),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>An unsigned token (<c>alg: none</c>, empty signature) with valid claims.</summary>
    public string UnsignedToken(string subject = "alice")
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["alg"] = "none", ["typ"] = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["aud"] = DefaultAudience, ["sub"] = subject, ["groups"] = new[] { "coffer-admins" },
            ["iat"] = now, ["nbf"] = now, ["exp"] = now + 600,
        }));
        return header + "." + payload + ".";
    }

    /// <summary>The key-confusion attack: HS256 with the RSA public key (as published) as the HMAC secret,
    /// and the RSA key's id.</summary>
    public string PublicKeyAsHmacSecretToken()
    {
        var rsa = RsaKey;
        var secret = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(rsa.Rsa.ExportSubjectPublicKeyInfoPem())) { KeyId = rsa.KeyId };
        return Token(new TokenSpec { Key = secret, Algorithm = SecurityAlgorithms.HmacSha256 });
    }

    private Task DiscoveryAsync(HttpContext http) => http.Response.WriteAsJsonAsync(new Dictionary<string, object>
    {
        ["issuer"] = Issuer,
        ["jwks_uri"] = Issuer + "/jwks",
        ["authorization_endpoint"] = Issuer + "/authorize",
        ["token_endpoint"] = Issuer + "/token",
        ["id_token_signing_alg_values_supported"] = new[] { "RS256", "ES256" },
        ["response_types_supported"] = new[] { "code" },
        ["subject_types_supported"] = new[] { "public" },
    });

    private Task JwksAsync(HttpContext http)
    {
        Interlocked.Increment(ref _jwksFetches);
        var keys = new[] { JsonWebKeyConverter.ConvertFromRSASecurityKey(PublicOnly(RsaKey)), JsonWebKeyConverter.ConvertFromECDsaSecurityKey(_ec) }
            .Select(Jwk).ToList();
        return http.Response.WriteAsJsonAsync(new Dictionary<string, object> { ["keys"] = keys });
    }

    /// <summary>Approves <see cref="SignInAs"/> without asking and redirects back with a code.</summary>
    private IResult Authorize(HttpContext http)
    {
        var query = http.Request.Query;
        var redirect = query["redirect_uri"].ToString();
        var state = query["state"].ToString();
        if (query["response_type"] != "code" || query["code_challenge_method"] != "S256" || string.IsNullOrEmpty(query["code_challenge"]) || redirect.Length == 0)
        {
            return Results.BadRequest("response_type=code and an S256 code_challenge are required");
        }

        if (SignInAs is not { } user)
        {
            return Results.Redirect(redirect + "?error=access_denied&state=" + Uri.EscapeDataString(state));
        }

        var code = Base64Url(RandomNumberGenerator.GetBytes(32));
        lock (_gate)
        {
            _codes[code] = new PendingCode(user, query["client_id"].ToString(), redirect, query["code_challenge"].ToString(), query["nonce"].ToString());
        }

        return Results.Redirect(redirect + "?code=" + code + "&state=" + Uri.EscapeDataString(state));
    }

    /// <summary>The ID token for a code, once, for the verifier of its challenge (RFC 7636 §4.6). A
    /// confidential client is authenticated first, so a refused client spends no code.</summary>
    private IResult Exchange(string authorization, IFormCollection form)
    {
        if (ClientSecret is { } secret && !IsClient(authorization, form["client_id"].ToString(), secret))
        {
            return Results.Json(new Dictionary<string, string> { ["error"] = "invalid_client" }, statusCode: 401);
        }

        PendingCode? pending;
        lock (_gate)
        {
            // A code is spent by its first use, right or wrong (RFC 6749 §4.1.2: used at most once).
            _codes.Remove(form["code"].ToString(), out pending);
        }

        var verifier = form["code_verifier"].ToString();
        var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (form["grant_type"] != "authorization_code" || pending is null || pending.ClientId != form["client_id"]
            || pending.RedirectUri != form["redirect_uri"] || verifier.Length < 43 || challenge != pending.Challenge)
        {
            return Results.Json(new Dictionary<string, string> { ["error"] = "invalid_grant" }, statusCode: 400);
        }

        // The login's nonce, unless the test gives the user another one (a token made for another login).
        var claims = new Dictionary<string, object>(pending.User.OtherClaims, StringComparer.Ordinal);
        claims.TryAdd("nonce", pending.Nonce);
        var idToken = Token(pending.User with { OtherClaims = claims });
        LastIdToken = idToken;
        return Results.Json(new Dictionary<string, object> { ["access_token"] = "not-used", ["token_type"] = "Bearer", ["id_token"] = idToken });
    }

    /// <summary>Whether the Basic credentials are this client's id and secret: each part is form-url-decoded
    /// after the base64 (RFC 6749 §2.3.1), so a client that sends them unencoded fails on any character the
    /// encoding changes. The secret is compared in constant time, as hashes, so not even its length shows.</summary>
    private static bool IsClient(string authorization, string clientId, string secret)
    {
        const string Basic = "Basic ";
        if (!authorization.StartsWith(Basic, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[Basic.Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        return credentials.Split(':', 2) is [var id, var given]
            && WebUtility.UrlDecode(id) == clientId
            && CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(WebUtility.UrlDecode(given))), SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
    }

    private sealed record PendingCode(TokenSpec User, string ClientId, string RedirectUri, string Challenge, string Nonce);

    private static RsaSecurityKey PublicOnly(RsaSecurityKey key) => new(key.Rsa.ExportParameters(false)) { KeyId = key.KeyId };

    /// <summary>A public JWK as an IdP publishes it (no private members).</summary>
    private static Dictionary<string, string> Jwk(JsonWebKey key)
    {
        var jwk = new Dictionary<string, string>(StringComparer.Ordinal) { ["kty"] = key.Kty, ["kid"] = key.Kid, ["use"] = "sig" };
        if (key.Kty == "RSA")
        {
            jwk["n"] = key.N;
            jwk["e"] = key.E;
            jwk["alg"] = "RS256";
        }
        else
        {
            jwk["crv"] = key.Crv;
            jwk["x"] = key.X;
            jwk["y"] = key.Y;
            jwk["alg"] = "ES256";
        }

        return jwk;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _rsa.Rsa.Dispose();
        _ec.ECDsa.Dispose();
    }
}

/// <summary>What goes into a test token; the defaults make a valid one for <see cref="TestIssuer.DefaultAudience"/>.</summary>
public sealed record TokenSpec
{
    public string Subject { get; init; } = "alice-subject";

    public string? PreferredUsername { get; init; } = "alice@example.test";

    public string[]? Groups { get; init; } = ["coffer-admins"];

    public string GroupsClaim { get; init; } = "groups";

    /// <summary>Further claims, e.g. Keycloak's <c>realm_access</c> object (a dictionary becomes a JSON object).</summary>
    public IReadOnlyDictionary<string, object> OtherClaims { get; init; } = new Dictionary<string, object>();

    /// <summary>Null: the issuer's own URL.</summary>
    public string? Issuer { get; init; }

    public string Audience { get; init; } = TestIssuer.DefaultAudience;

    public TimeSpan NotBeforeIn { get; init; } = TimeSpan.Zero;

    public TimeSpan ExpiresIn { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>RS256 signs with the issuer's RSA key, ES256 with its EC key, unless <see cref="Key"/> is set.</summary>
    public string Algorithm { get; init; } = SecurityAlgorithms.RsaSha256;

    public SecurityKey? Key { get; init; }
}
