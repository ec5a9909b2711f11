using System.Text;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Server.Management;
using Coffer.Server.Seal;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Approvals;

/// <summary>
/// Runs an approved request, once (issue 7). Only the vote that moved the request pending → approved
/// gets here, so the call runs at most once even when final votes race; a node that stops meanwhile
/// leaves it approved, never run twice. The target's fingerprint is checked first: if it changed, the
/// request becomes void and nothing runs. Then the captured endpoint is re-invoked in-process — its
/// own filters (body binding, audit) included — as the requester, marked as the execution of this
/// approval so its audit record names it; the answer is stored, sealed when it holds a secret.
/// </summary>
internal static class ApprovalExecutor
{
    public static async Task RunAsync(HttpContext voter, ApprovalRequest request, CancellationToken ct)
    {
        var services = voter.RequestServices;
        var storage = services.GetRequiredService<ICofferStorage>();
        var audit = services.GetRequiredService<AuditLog>();
        var time = services.GetRequiredService<TimeProvider>();

        var fingerprint = await ApprovalFingerprint.ComputeAsync(storage, request.RoutePattern, request.RouteValues, ct);
        if (fingerprint != request.Fingerprint)
        {
            const string changed = "the target changed after the request was made; nothing ran (ask again to act on its current state)";
            await audit.AppendAsync(ApprovalAudit.System(voter, AuditActions.ApprovalVoid, request, changed), ct);
            await storage.Approvals.MoveAsync(request.Id, ApprovalStates.Approved, ApprovalStates.Void, time.GetUtcNow(), changed, ct);
            return;
        }

        var record = ApprovalAudit.Event(voter, AuditActions.ApprovalExecute, request);
        await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, ct);
        var (status, body) = await InvokeAsync(voter, request, ct);

        byte[]? sealedResult = null;
        if (QuorumOperations.AnswerHoldsSecret(request.Operation) && status < 300 && body is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            sealedResult = await services.GetRequiredService<SealManager>().SealSecretAsync(SealPurpose.ApprovalResult, request.Id, bytes, ct);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
            body = null;
        }

        await storage.Approvals.RecordExecutionAsync(request.Id, status, body, sealedResult, time.GetUtcNow(), ct);
        await audit.AppendAsync(record with
        {
            Outcome = status < 400 ? AuditOutcome.Ok : AuditOutcome.Error,
            Details = record.Details + " -> " + status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, ct);
    }

    private static async Task<(int Status, string? Body)> InvokeAsync(HttpContext voter, ApprovalRequest request, CancellationToken ct)
    {
        var services = voter.RequestServices;
        var endpoint = services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().FirstOrDefault(e =>
            e.RoutePattern.RawText == request.RoutePattern
            && e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Contains(request.Method, StringComparer.OrdinalIgnoreCase) == true);
        if (endpoint?.RequestDelegate is null)
        {
            return (StatusCodes.Status404NotFound, null);
        }

        var context = new DefaultHttpContext { RequestServices = services, RequestAborted = ct };
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
        }

        context.Connection.RemoteIpAddress = voter.Connection.RemoteIpAddress;
        using var answer = new MemoryStream();
        context.Response.Body = answer;
        context.SetEndpoint(endpoint);
        TokenAuthentication.SetCaller(context, request.Requester);
        QuorumGate.MarkExecutionOf(context, request.Id);

        // The same error policy as a call from outside: known failures become problems, not exceptions.
        var logger = services.GetRequiredService<ILogger<ProblemMiddleware>>();
        await new ProblemMiddleware(endpoint.RequestDelegate, logger).InvokeAsync(context);
        return (context.Response.StatusCode, answer.Length == 0 ? null : Encoding.UTF8.GetString(answer.GetBuffer(), 0, (int)answer.Length));
    }
}
