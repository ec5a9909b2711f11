using System.Text.RegularExpressions;
using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Server.Management;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Approvals;

/// <summary>Audit records of approval requests: every record names the request, its operation and
/// the call it holds, and the key store and key the call is about. Never a body or an answer.</summary>
internal static partial class ApprovalAudit
{
    /// <summary>A record made by the caller of <paramref name="http"/> about <paramref name="request"/>.</summary>
    public static AuditEvent Event(HttpContext http, string action, ApprovalRequest request) =>
        About(ManagementAudit.Caller(http, action), request);

    /// <summary>A record made by <paramref name="actor"/> about <paramref name="request"/>.</summary>
    public static AuditEvent Event(Services.Actor actor, string action, ApprovalRequest request) => About(actor.Event(action), request);

    /// <summary>A record no caller made (expiry, a void request): actor kind system; the source IP is
    /// that of the call that set it off, if any.</summary>
    public static AuditEvent System(string? sourceIp, string action, ApprovalRequest request, string reason) =>
        About(new AuditEvent { Action = action, ActorKind = AuditActorKinds.System, SourceIp = sourceIp, Reason = reason }, request);

    /// <summary>The request id and operation an approval record's details begin with (what alert
    /// events carry), or false for details that are not an approval record's.</summary>
    public static bool TryParseDetails(string? details, out string approvalId, out string operation)
    {
        var match = details is null ? null : DetailsHead().Match(details);
        approvalId = match is { Success: true } ? match.Groups["id"].Value : string.Empty;
        operation = match is { Success: true } ? match.Groups["operation"].Value : string.Empty;
        return match is { Success: true };
    }

    private static AuditEvent About(AuditEvent e, ApprovalRequest request) => e with
    {
        KeyStore = request.RouteValues.TryGetValue("id", out var store) && request.RoutePattern.StartsWith("/api/v1/keystores/", StringComparison.Ordinal) ? store : null,
        KeyId = request.RouteValues.GetValueOrDefault("keyId"),
        // Begins with what TryParseDetails reads back.
        Details = $"approval {request.Id} for {request.Operation}: {request.Method} {request.Path} " +
            $"(requested by {request.Requester.Kind} {request.Requester.Id}; policy '{request.Policy}', {request.RequiredApprovals} of group '{request.ApproverGroup}')",
    };

    [GeneratedRegex(@"^approval (?<id>apr_[A-Za-z0-9_-]+) for (?<operation>[a-z0-9.-]+): ", RegexOptions.CultureInvariant)]
    private static partial Regex DetailsHead();
}
