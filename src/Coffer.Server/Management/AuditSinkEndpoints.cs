using Coffer.Auth;
using System.Text.Json;
using System.Text.Json.Serialization;
using Coffer.Storage;
using Coffer.Server.Audit.Sinks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>GET /api/v1/audit/sinks: each configured sink's backlog and last error — the metric that
/// says whether records wait in the database (read-only, so no audit action).</summary>
internal static class AuditSinkEndpoints
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/audit/sinks", List).WithTags("Audit").RequirePermission(Permissions.AuditRead)
            .WithSummary("The audit sinks (syslog, file): cursor, backlog of records not yet delivered, last delivery and last error");

    private static async Task<JsonHttpResult<AuditSinkListView>> List(AuditForwarders forwarders, ICofferStorage storage, CancellationToken ct)
    {
        // The stored head, not this node's: in a cluster the other nodes' records wait for the sinks too.
        var head = (await storage.Audit.GetHeadAsync(ct)).Sequence;
        var sinks = forwarders.Statuses.Select(s => new AuditSinkView(
            s.Name, s.Target, s.Cursor, head, Math.Max(0, head - s.Cursor), s.LastDeliveredAt, s.LastError, s.LastErrorAt, s.ConsecutiveFailures));
        return TypedResults.Json(new AuditSinkListView([.. sinks]), AuditSinkJson.Default.AuditSinkListView);
    }
}

/// <param name="Name"><c>syslog</c> or <c>file</c>.</param>
/// <param name="Target">Where records go: <c>tls://host:port</c>, <c>tcp://host:port</c> or the file.</param>
/// <param name="Cursor">The last record the sink confirmed.</param>
/// <param name="Head">The last record written.</param>
/// <param name="Backlog">Records written but not yet delivered: Head − Cursor.</param>
/// <param name="ConsecutiveFailures">Failed attempts since the last success; 0 while delivering.</param>
public sealed record AuditSinkView(
    string Name, string Target, long Cursor, long Head, long Backlog, DateTimeOffset? LastDeliveredAt, string? LastError, DateTimeOffset? LastErrorAt, int ConsecutiveFailures);

public sealed record AuditSinkListView(IReadOnlyList<AuditSinkView> Sinks);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AuditSinkListView))]
public sealed partial class AuditSinkJson : JsonSerializerContext;
