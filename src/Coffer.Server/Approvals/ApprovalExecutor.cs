using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.Management;
using Coffer.Server.Management.Oidc;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Approvals;

/// <summary>
/// Runs an approved request, once. Only the vote that moved the request pending → approved
/// gets here, so the call runs at most once even when final votes race; a node that stops meanwhile
/// leaves it approved, never run twice, and the scheduler then marks it interrupted (ApprovalInterruptions). The target's fingerprint is checked first: if it changed, the
/// request becomes void and nothing runs. Then the captured endpoint is re-invoked in-process — its
/// own filters (body binding, audit) included — as the requester, marked as the execution of this
/// approval so its audit record names it; the answer is stored, sealed when it holds a secret. The
/// requester must still be able to make the call (enabled, holding the endpoint's permission now),
/// else the request becomes void too: approvals add a check, never rights.
/// </summary>
internal static class ApprovalExecutor
{
    public static async Task RunAsync(HttpContext voter, ApprovalRequest request, CancellationToken ct)
    {
        var services = voter.RequestServices;
        var storage = services.GetRequiredService<ICofferStorage>();
        var audit = services.GetRequiredService<AuditLog>();
        var time = services.GetRequiredService<TimeProvider>();

        var endpoint = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().FirstOrDefault(e =>
            e.RoutePattern.RawText == request.RoutePattern
            && e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase) == true);
        var requester = await CurrentRequesterAsync(storage, services.GetRequiredService<Hosting.CofferOptions>().Oidc, request.Requester, time.GetUtcNow(), ct);
        var context = endpoint is null || requester is null ? null : Rebuild(voter, request, endpoint, requester, ct);
        var required = endpoint?.Metadata.GetMetadata<RequiredPermission>()?.Permission;
        var voidReason =
            await ApprovalFingerprint.ComputeAsync(storage, request.RoutePattern, request.RouteValues, ct) != request.Fingerprint
                ? "the target changed after the request was made; nothing ran (ask again to act on its current state)"
            : endpoint?.RequestDelegate is null ? "this server has no such endpoint any more; nothing ran"
            : context is null ? "the requester is disabled or their token is revoked or expired; nothing ran"
            // The call runs with the requester's rights of now: a role taken away meanwhile is not borrowed from the approvers.
            : !await services.GetRequiredService<Authorizer>().AllowsAsync(requester!, required, context)
                ? $"the requester no longer holds {required ?? "administrator"} for this call; nothing ran"
            : null;
        if (voidReason is not null)
        {
            await audit.AppendAsync(ApprovalAudit.System(ManagementAudit.SourceIp(voter), AuditActions.ApprovalVoid, request, voidReason), ct);
            await storage.Approvals.MoveAsync(request.Id, ApprovalStates.Approved, ApprovalStates.Void, time.GetUtcNow(), voidReason, ct);
            return;
        }

        var record = ApprovalAudit.Event(voter, AuditActions.ApprovalExecute, request);
        await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);

        // The same error policy as a call from outside: known failures become problems, not exceptions.
        var logger = services.GetRequiredService<ILogger<ProblemMiddleware>>();
        await new ProblemMiddleware(endpoint!.RequestDelegate!, logger).InvokeAsync(context!);
        var status = context!.Response.StatusCode;
        var answer = (MemoryStream)context.Response.Body;
        var body = answer.Length == 0 ? null : Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length);

        byte[]? sealedResult = null;
        if (QuorumOperations.AnswerHoldsSecret(request.Operation) && status < 300 && body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            try
            {
                sealedResult = await services.GetRequiredService<SealManager>().SealSecretAsync(SealPurpose.ApprovalResult, request.Id, bytes, ct);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(bytes);
                CryptographicOperations.ZeroMemory(answer.GetBuffer());
            }

            body = null;
        }

        await storage.Approvals.RecordExecutionAsync(request.Id, status, body, sealedResult, time.GetUtcNow(), ct);
        await audit.AppendAsync(record with
        {
            Outcome = status < 400 ? AuditOutcome.Ok : AuditOutcome.Error,
            Details = record.Details + " -> " + status.ToString(CultureInfo.InvariantCulture),
        }, ct);
    }

    /// <summary>The requester as they are now, or null when they can no longer act as they did when
    /// they asked. With a Coffer token: that token still valid and its owner still enabled, with the
    /// owner's current roles (the same check as every call, <see cref="TokenAuthentication.CallerOfTokenAsync"/>),
    /// so revoking a leaked token also voids what was asked with it. An identity-provider login has no
    /// token to check again: the Coffer user it named must still be enabled, and the IdP groups it had
    /// count with the roles today's configuration maps them to (a mapping removed since grants nothing).</summary>
    private static async Task<Caller?> CurrentRequesterAsync(ICofferStorage storage, Hosting.OidcOptions? oidc, Caller asked, DateTimeOffset now, CancellationToken ct)
    {
        if (asked.TokenId is not null)
        {
            var token = (await storage.System.ListTokensAsync(ct)).FirstOrDefault(t => t.Id == asked.TokenId);
            return token is null ? null : (await TokenAuthentication.CallerOfTokenAsync(storage, token, now, ct)).Caller;
        }

        var mapped = oidc?.GrantsOf(asked.Groups) ?? [];
        if (asked.Id.StartsWith(OidcTokenValidator.CallerIdPrefix, StringComparison.Ordinal))
        {
            return mapped.Count > 0 ? asked with { Grants = mapped } : null;
        }

        return asked.Kind == CallerKinds.User && await storage.Principals.GetAsync(asked.Id, ct) is { IsEnabled: true } user
            ? Caller.ForPrincipal(user, null) with { Grants = [.. user.Grants.Union(mapped)] }
            : null;
    }

    /// <summary>The captured call as a request of its own, made by <paramref name="requester"/> and
    /// marked as the execution of this approval (its audit record names it; the quorum gate lets it pass).</summary>
    private static DefaultHttpContext Rebuild(HttpContext voter, ApprovalRequest request, RouteEndpoint endpoint, Caller requester, CancellationToken ct)
    {
        var context = new DefaultHttpContext { RequestServices = voter.RequestServices, RequestAborted = ct };
        context.Request.Method = request.Method;
        context.Request.Scheme = voter.Request.Scheme;
        context.Request.Host = voter.Request.Host;
        context.Request.Path = request.Path;
        context.Request.QueryString = new QueryString(request.Query.Length == 0 ? null : request.Query);
        foreach (var (name, value) in request.RouteValues)
        {
            context.Request.RouteValues[name] = value;
        }

        if (request.Body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(request.Body);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentType = "application/json";
            context.Request.ContentLength = bytes.Length;
            context.Features.Set<IHttpRequestBodyDetectionFeature>(new HasBody());
        }

        context.Connection.RemoteIpAddress = voter.Connection.RemoteIpAddress;
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(endpoint);
        TokenAuthentication.SetCaller(context, requester);
        QuorumGate.MarkExecutionOf(context, request.Id);
        return context;
    }

    /// <summary>Minimal APIs bind a body only when the server says the request can have one.</summary>
    private sealed class HasBody : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => true;
    }
}
