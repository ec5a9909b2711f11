using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Secrets;
using Coffer.Server.Audit;
using Coffer.Server.Hosting;
using Coffer.Server.Management;
using Coffer.Server.Management.Oidc;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.WebConsole;

/// <summary>
/// The web console's login through the identity provider: OpenID Connect's authorization code flow with
/// PKCE (docs/console.md, "Login through the identity provider"). <see cref="Start"/> sends the browser to
/// the IdP with a fresh <see cref="OidcLoginFlow"/>; <see cref="CompleteAsync"/> takes the code back, checks
/// the state against the browser's flow cookie, exchanges the code with the verifier, checks the ID token
/// as a bearer JWT is checked (and its nonce), derives the caller as for a bearer JWT, records
/// <c>console.login</c> and opens a console session. No code, token or verifier reaches a log, an answer
/// or an audit record.
/// </summary>
/// <remarks>Thread-safe; one per node when the Oidc section names a client id.</remarks>
internal sealed partial class OidcConsoleLogin : IDisposable
{
    public const string Action = "console.login";

    /// <summary>How long a browser has between starting a login and coming back with the code.</summary>
    public static readonly TimeSpan FlowLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The flow cookie goes only to the login's own endpoints.</summary>
    public const string FlowCookiePath = "/api/v1/session/oidc";

    private readonly OidcOptions _options;
    private readonly OidcTokenValidator _validator;
    private readonly ICofferStorage _storage;
    private readonly ConsoleSessions _sessions;
    private readonly AuditLog _audit;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _clientAuthentication;
    private readonly bool _secure;

    public OidcConsoleLogin(OidcOptions options, OidcTokenValidator validator, ICofferStorage storage, ConsoleSessions sessions, AuditLog audit, ILogger<OidcConsoleLogin> logger, bool secure)
    {
        _options = options;
        _validator = validator;
        _storage = storage;
        _sessions = sessions;
        _audit = audit;
        _logger = logger;
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(options.MetadataTimeoutSeconds) };
        _secure = secure;
        FlowCookieName = secure ? "__Secure-coffer-oidc" : "coffer-oidc";
        if (options.ClientSecretPath is { } path)
        {
            // client_secret_basic, which every IdP must take (RFC 6749 §2.3.1): id and secret form-encoded first.
            var secret = SecretFile.Read(path);
            _clientAuthentication = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
                Uri.EscapeDataString(options.ClientId!) + ":" + Uri.EscapeDataString(secret))));
        }
    }

    /// <summary>Under TLS the <c>__Secure-</c> prefix makes the browser refuse the cookie unless Secure.</summary>
    public string FlowCookieName { get; }

    /// <summary>HttpOnly, for the login's endpoints only, gone after <see cref="FlowLifetime"/>; SameSite=Lax
    /// because the IdP's redirect back is a top-level navigation from another site, which Lax lets the
    /// cookie go with and Strict would not.</summary>
    public CookieOptions FlowCookieOptions() => new()
    {
        HttpOnly = true,
        Secure = _secure,
        SameSite = SameSiteMode.Lax,
        Path = FlowCookiePath,
        MaxAge = FlowLifetime,
        IsEssential = true,
    };

    /// <summary>The provider's name for the login button.</summary>
    public string ProviderName => _options.ProviderName;

    /// <summary>Where the IdP sends the browser back: the path on the address the browser used.</summary>
    public string RedirectUri(Uri requestOrigin) => new Uri(requestOrigin, _options.RedirectPath).AbsoluteUri;

    /// <summary>The IdP's authorization request for a new flow, or null while the IdP cannot be reached.</summary>
    public async Task<(Uri Location, OidcLoginFlow Flow)?> Start(string redirectUri, CancellationToken ct)
    {
        if (await _validator.LoginEndpointsAsync(ct) is not { } endpoints)
        {
            return null;
        }

        var flow = OidcLoginFlow.New();
        var location = QueryHelpers.AddQueryString(endpoints.Authorization.AbsoluteUri, new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = _options.ClientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = _options.Scope,
            ["state"] = flow.State,
            ["nonce"] = flow.Nonce,
            ["code_challenge"] = flow.Challenge,
            ["code_challenge_method"] = "S256",
        });
        return (new Uri(location), flow);
    }

    /// <summary>Completes a login from the IdP's answer; the outcome names the session or why there is none.</summary>
    public async Task<OidcLoginOutcome> CompleteAsync(OidcCallback callback, OidcLoginFlow? flow, string redirectUri, string? sourceIp, CancellationToken ct)
    {
        // Before anything else: an answer not matching this browser's own login is someone else's (a
        // login CSRF, a replayed address) or an expired one. Nothing was tried, so nothing is recorded.
        if (flow is null || callback.State is null || !ConstantTime.TextEquals(callback.State, flow.State))
        {
            return OidcLoginOutcome.Failed(OidcLoginError.State);
        }

        if (callback.Error is not null || callback.Code is null)
        {
            var error = callback.Error is { } e && IsErrorCode(e) ? e : "no code";
            return await RefuseAsync(OidcLoginError.Provider, "identity provider answered " + error, sourceIp, ct);
        }

        if (await _validator.LoginEndpointsAsync(ct) is not { } endpoints)
        {
            return await RefuseAsync(OidcLoginError.Unreachable, "IdP unreachable", sourceIp, ct);
        }

        var exchange = await ExchangeAsync(endpoints.Token, callback.Code, flow.Verifier, redirectUri, ct);
        if (exchange.IdToken is not { } idToken)
        {
            return await RefuseAsync(exchange.Error, exchange.Refusal!, sourceIp, ct);
        }

        var result = await _validator.ValidateIdTokenAsync(idToken, flow.Nonce, ct);
        if (result.Identity is not { } identity)
        {
            return await RefuseAsync(OidcLoginError.Token, "ID token refused: " + OidcRefusals.Text(result.Refusal), sourceIp, ct);
        }

        var (caller, _) = await OidcCallers.CallerOfAsync(_storage, identity.Subject, identity.Name, identity.Groups, identity.Grants, ct);
        if (caller is null)
        {
            return await RefuseAsync(OidcLoginError.Disabled, $"user of subject {identity.Subject} disabled", sourceIp, ct);
        }

        if (caller.Grants.Count == 0)
        {
            return await RefuseAsync(OidcLoginError.NoRole,
                $"no role: identity-provider groups ({TokenAuthentication.GroupList(identity.Groups)}) of subject {identity.Subject} map to no Coffer role", sourceIp, ct);
        }

        // Fail closed: no record, no session.
        if (!await TryRecordAsync(new AuditEvent
        {
            Action = Action,
            ActorKind = caller.Kind,
            ActorId = caller.Id,
            SourceIp = sourceIp,
            Details = string.Create(CultureInfo.InvariantCulture,
                $"console session for {caller.Kind} {caller.Id} (method oidc): subject {identity.Subject}, name '{caller.Name}', groups ({TokenAuthentication.GroupList(caller.Groups)}), roles ({TokenAuthentication.RoleList(caller)}), ID token expires {identity.ExpiresAt:yyyy-MM-dd'T'HH:mm:ss'Z'}"),
        }, ct))
        {
            return OidcLoginOutcome.Failed(OidcLoginError.Audit);
        }

        var login = new ConsoleOidcLogin(identity.Subject, identity.Name, identity.Groups);
        return new OidcLoginOutcome(await _sessions.OpenAsync(login, identity.ExpiresAt, caller, ct), OidcLoginError.None);
    }

    /// <summary>The code for the ID token at the token endpoint (RFC 6749 §4.1.3, with RFC 7636's
    /// verifier), or why not. The IdP's error code is kept, its free text and the answer never.</summary>
    private async Task<(string? IdToken, OidcLoginError Error, string? Refusal)> ExchangeAsync(Uri tokenEndpoint, string code, string verifier, string redirectUri, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = redirectUri,
                ["code_verifier"] = verifier,
                ["client_id"] = _options.ClientId!,
            }),
        };
        request.Headers.Authorization = _clientAuthentication;
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await _http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                var error = await ErrorCodeAsync(response, ct);
                if (error == "invalid_client" || response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    // Not this person's login but Coffer's own registration: every login fails alike
                    // until the operator fixes it, so the operator hears it too.
                    Log.ClientRefused(_logger, error);
                    return (null, OidcLoginError.Client, $"token endpoint refused Coffer's client credentials ({error})");
                }

                return (null, OidcLoginError.Provider, $"token endpoint refused the code ({error})");
            }

            using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
            var root = answer.RootElement;
            return root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id_token", out var idToken) && idToken.ValueKind == JsonValueKind.String
                ? (idToken.GetString(), OidcLoginError.None, null)
                : (null, OidcLoginError.Provider, "token endpoint answered no ID token");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Log.ExchangeFailed(_logger, e.GetType().Name);
            return (null, OidcLoginError.Provider, "token endpoint unreachable or its answer unreadable");
        }
    }

    /// <summary>The OAuth error code of the token endpoint's refusal (RFC 6749 §5.2), or "no error code"
    /// when its answer has none, or none fit to repeat, or is no JSON at all (a proxy's error page).</summary>
    private static async Task<string> ErrorCodeAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(ct));
            var root = answer.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String && IsErrorCode(e.GetString()!))
            {
                return e.GetString()!;
            }
        }
        catch (JsonException)
        {
            // The refusal stands; only its code is unknown.
        }

        return "no error code";
    }

    /// <summary>A refused login: recorded as a denied <c>console.login</c> with the reason, never the code
    /// or token. Refused either way: a record that cannot be written changes nothing here.</summary>
    private async Task<OidcLoginOutcome> RefuseAsync(OidcLoginError error, string reason, string? sourceIp, CancellationToken ct)
    {
        await TryRecordAsync(new AuditEvent
        {
            Action = Action,
            Outcome = AuditOutcome.Denied,
            ActorKind = AuditActorKinds.Anonymous,
            SourceIp = sourceIp,
            Reason = "oidc: " + reason,
            Details = "console login through the identity provider (method oidc)",
        }, ct);
        return OidcLoginOutcome.Failed(error);
    }

    /// <summary>Whether the record is durable; a failure is logged.</summary>
    private async Task<bool> TryRecordAsync(AuditEvent record, CancellationToken ct)
    {
        try
        {
            await _audit.AppendAsync(record, ct);
            return true;
        }
        catch (AuditUnavailableException e)
        {
            Log.NotAudited(_logger, e);
            return false;
        }
    }

    /// <summary>OAuth error codes are printable ASCII without quotes or backslash (RFC 6749 §4.1.2.1); anything
    /// else, or anything long, is not repeated.</summary>
    private static bool IsErrorCode(string text) =>
        text.Length is > 0 and <= 64 && text.All(c => c is >= ' ' and <= '~' and not '"' and not '\\');

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 4014, Level = LogLevel.Warning, Message = "A console login through the identity provider could not be recorded in the audit log; no session was opened for it")]
        public static partial void NotAudited(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 4015, Level = LogLevel.Warning, Message = "The identity provider's token endpoint could not be reached or answered unreadably ({Error}); the console login was refused")]
        public static partial void ExchangeFailed(ILogger logger, string error);

        [LoggerMessage(EventId = 4016, Level = LogLevel.Warning, Message = "The identity provider's token endpoint refused Coffer's client credentials ({Error}); no console login through it can succeed until Oidc:ClientId and the secret in Oidc:ClientSecretPath match Coffer's registration there")]
        public static partial void ClientRefused(ILogger logger, string error);
    }
}

/// <summary>What the IdP sent the browser back with (OpenID Connect Core 1.0, §3.1.2.5 and §3.1.2.6).</summary>
internal sealed record OidcCallback(string? Code, string? State, string? Error)
{
    public override string ToString() => "OidcCallback"; // the code is a credential until used
}

/// <summary>Why a login through the IdP opened no session; the console says it on the login screen.</summary>
internal enum OidcLoginError
{
    None,

    /// <summary>No flow cookie, or a state that is not its own: expired, or started in another browser.</summary>
    State,

    /// <summary>The IdP answered an error, or refused the code at its token endpoint.</summary>
    Provider,

    /// <summary>The IdP's token endpoint refused Coffer's own client credentials (its client id or secret).</summary>
    Client,

    /// <summary>The IdP's discovery document could not be read.</summary>
    Unreachable,

    /// <summary>The ID token failed a check (issuer, audience, signature, expiry, nonce).</summary>
    Token,

    /// <summary>The Coffer user of the subject is disabled.</summary>
    Disabled,

    /// <summary>The login's groups map to no role.</summary>
    NoRole,

    /// <summary>The audit log could not record the login.</summary>
    Audit,
}

internal readonly record struct OidcLoginOutcome(OpenedSession? Session, OidcLoginError Error)
{
    public static OidcLoginOutcome Failed(OidcLoginError error) => new(null, error);

    /// <summary>The code the console's login screen reads from its address.</summary>
    public string ErrorCode => Error switch
    {
        OidcLoginError.State => "state",
        OidcLoginError.Provider => "provider",
        OidcLoginError.Client => "client",
        OidcLoginError.Unreachable => "unreachable",
        OidcLoginError.Token => "token",
        OidcLoginError.Disabled => "disabled",
        OidcLoginError.NoRole => "role",
        OidcLoginError.Audit => "audit",
        _ => "none",
    };
}
