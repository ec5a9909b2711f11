using System.Text.Json;
using Coffer.Server.Audit;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Management;

/// <summary>
/// GET /audit/verify answered as <c>application/x-ndjson</c> (docs/audit-verify.md, "Progress"): a
/// progress line after the first page read and then at most one a second while the walk runs, then one
/// line with the result. The walk runs inside the request, so a client that goes away cancels it and
/// any node of a cluster answers it with no state kept between calls.
/// </summary>
internal sealed class AuditVerifyStream(AuditLog audit, AuditVerifyRequest request, TimeProvider time) : IResult
{
    public const string MediaType = "application/x-ndjson";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Whether the caller asked for the stream (Accept names its media type).</summary>
    public static bool IsAsked(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(MediaType, StringComparison.OrdinalIgnoreCase));

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var ct = httpContext.RequestAborted;
        var response = httpContext.Response;
        long? shown = null;

        // Nothing is written before the first page was read, so a refusal (sealed) is still a problem+json answer.
        async ValueTask WriteAsync(AuditVerifyLine line)
        {
            if (!response.HasStarted)
            {
                response.ContentType = MediaType;
            }

            await JsonSerializer.SerializeAsync(response.Body, line, ManagementJson.Default.AuditVerifyLine, ct);
            await response.Body.WriteAsync("\n"u8.ToArray(), ct);
            await response.Body.FlushAsync(ct);
        }

        var result = await audit.VerifyAsync(request, async progress =>
        {
            var now = time.GetTimestamp();
            if (shown is null || time.GetElapsedTime(shown.Value, now) >= Interval)
            {
                shown = now;
                await WriteAsync(new AuditVerifyLine(Progress: new(progress.Records, progress.LastSequence, progress.HeadSequence)));
            }
        }, ct);
        await WriteAsync(new AuditVerifyLine(Result: AuditEndpoints.View(result)));
    }
}
