using System.Globalization;
using System.Text;
using System.Text.Json;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Server.Approvals.Commands;
using Coffer.Server.Audit;
using Coffer.Server.Management;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Coffer.Server.Approvals;

/// <summary>The quorum operation an endpoint is (<see cref="QuorumGate.RequiresQuorum{TBuilder}"/>).</summary>
internal sealed record QuorumMetadata(string Operation);

/// <summary>
/// Holds guarded calls for approval. Runs as middleware after
/// authentication and the permission check, before any endpoint filter: when a quorum policy covers
/// the endpoint's operation, the call is not run but read as its typed command
/// (<see cref="ApprovedCommands"/>; input it could only fail on is refused at once, 400) and captured —
/// method, route pattern and values, query, JSON body, the requester, the <c>Coffer-Reason</c> header and
/// the target's fingerprint — as an approval request, and answered 202 with it. Without a covering
/// policy the call runs as before. <see cref="ApprovalExecutor"/> runs an approved request's command
/// through the endpoint's service; it never passes here.
/// </summary>
internal static class QuorumGate
{
    public const string ReasonHeader = "Coffer-Reason";

    public const int MaxReasonLength = 512;

    /// <summary>Guarded bodies are small JSON documents (a rule document is the largest).</summary>
    public const int MaxBodyBytes = 256 * 1024;

    /// <summary>Declares the quorum operation this endpoint is; a policy covering it makes the call need approval.</summary>
    public static TBuilder RequiresQuorum<TBuilder>(this TBuilder builder, string operation)
        where TBuilder : IEndpointConventionBuilder =>
        QuorumOperations.IsKnown(operation)
            ? builder.WithMetadata(new QuorumMetadata(operation))
            : throw new ArgumentException($"Unknown quorum operation '{operation}'.", nameof(operation));

    public static async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        var metadata = http.GetEndpoint()?.Metadata.GetMetadata<QuorumMetadata>();
        var operation = metadata?.Operation;
        var caller = TokenAuthentication.CallerOf(http);
        if (operation is null || caller is null)
        {
            await next(http);
            return;
        }

        var storage = http.RequestServices.GetRequiredService<ICofferStorage>();
        var policy = (await storage.Approvals.ListPoliciesAsync(http.RequestAborted)).FirstOrDefault(p => p.Operations.Contains(operation, StringComparer.Ordinal));
        if (policy is null)
        {
            await next(http);
            return;
        }

        var captured = await CaptureAsync(http, operation, policy, caller);
        if (captured.Problem is { } problem)
        {
            await problem.ExecuteAsync(http);
            return;
        }

        var request = captured.Request!;
        var audit = http.RequestServices.GetRequiredService<AuditLog>();
        var record = ApprovalAudit.Event(http, AuditActions.ApprovalRequest, request) with { Reason = request.Reason };
        try
        {
            await audit.AppendAsync(record with { Outcome = AuditOutcome.Requested }, http.RequestAborted);
        }
        catch (AuditUnavailableException)
        {
            await Problems.AuditUnavailable().ExecuteAsync(http);
            return;
        }

        await storage.Approvals.CreateRequestAsync(request, http.RequestAborted);
        try
        {
            await audit.AppendAsync(record, http.RequestAborted);
        }
        catch (AuditUnavailableException)
        {
            await Problems.Make(503, "Audit log unavailable",
                $"Approval request {request.Id} was stored (its request is recorded), but the audit log could not record that it was. Check the server log.").ExecuteAsync(http);
            return;
        }

        var view = ApprovalViews.Of(request, []);
        await TypedResults.Accepted($"/api/v1/approvals/{request.Id}", view).ExecuteAsync(http);
    }

    private static async Task<(ApprovalRequest? Request, IResult? Problem)> CaptureAsync(
        HttpContext http, string operation, QuorumPolicy policy, Auth.Caller caller)
    {
        var reason = http.Request.Headers[ReasonHeader].ToString();
        if (reason.Length > MaxReasonLength)
        {
            return (null, Problems.BadRequest($"The {ReasonHeader} header is at most {MaxReasonLength} characters."));
        }

        var body = await ReadBodyAsync(http);
        if (body.Problem is not null)
        {
            return (null, body.Problem);
        }

        var pattern = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText
            ?? throw new InvalidOperationException("A guarded endpoint is a route endpoint.");
        var route = http.Request.RouteValues.Where(v => v.Value is not null)
            .ToDictionary(v => v.Key, v => Convert.ToString(v.Value, CultureInfo.InvariantCulture)!, StringComparer.Ordinal);
        ApprovedCommand command;
        try
        {
            command = ApprovedCommands.Parse(operation, http.Request.Method, route, body.Text)
                ?? throw new InvalidOperationException($"No approved command reads {http.Request.Method} {pattern} ({operation}).");
        }
        catch (InvalidRequestException e)
        {
            return (null, Problems.BadRequest(e.Message));
        }

        EnsureSameCall(http, command, pattern);
        var storage = http.RequestServices.GetRequiredService<ICofferStorage>();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var request = new ApprovalRequest(
            CredentialGenerator.NewId("apr"), operation, policy.Name, policy.RequiredApprovals, policy.ApproverGroup,
            http.Request.Method, pattern, http.Request.Path.Value ?? pattern, route, http.Request.QueryString.Value ?? "", body.Text,
            caller, reason.Length == 0 ? null : reason,
            await ApprovalFingerprint.ComputeAsync(storage, command.Scope, http.RequestAborted),
            ApprovalStates.Pending, now, now + policy.Lifetime);
        return (request, null);
    }

    /// <summary>A command runs with its endpoint's permission and audit action, which the endpoint
    /// declares; one that disagrees is a defect, refused before anything is held.</summary>
    private static void EnsureSameCall(HttpContext http, ApprovedCommand command, string pattern)
    {
        var metadata = http.GetEndpoint()!.Metadata;
        var permission = metadata.GetMetadata<RequiredPermission>()?.Permission;
        var action = metadata.GetMetadata<AuditActionMetadata>();
        if (permission != command.Permission || action?.Action != command.AuditAction || action.RunsWhenUnaudited != command.RunsWhenUnaudited)
        {
            throw new InvalidOperationException($"The approved command of {pattern} does not declare its endpoint's permission and audit action.");
        }
    }

    /// <summary>The JSON body as text (null when empty); it is replayed as it is when the request runs,
    /// so what cannot be replayed is refused now.</summary>
    private static async Task<(string? Text, IResult? Problem)> ReadBodyAsync(HttpContext http)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                return (null, Problems.BadRequest($"A request that needs approval has a body of at most {MaxBodyBytes / 1024} KiB."));
            }
        }

        if (buffer.Length == 0)
        {
            return (null, null);
        }

        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        try
        {
            using var _ = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return (null, Problems.BadRequest("The request body is not JSON; send the body as JSON with 'Content-Type: application/json'."));
        }

        return (text, null);
    }
}
