using Coffer.Auth;
using Coffer.Server.Audit;
using Coffer.Server.Audit.Retention;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>
/// /api/v1/audit/archives: retention. Records stay in the database until an administrator
/// archives a range into a file in <c>Audit.ArchiveDirectory</c>; <c>GET /audit/verify?archives=true</c>
/// then proves archives and database as one chain.
/// </summary>
internal static class AuditArchiveEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/audit/archives").WithTags("Audit").RequirePermission(Permissions.AuditRead);
        group.MapPost("", ArchiveAsync).RequirePermission(Permissions.AuditArchive).WithAuditAction("audit.archive")
            .WithSummary("Move the oldest records (up to throughSequence or before a time; the newest record and anything a sink has not delivered stay) into a new archive file, then remove them from the database; the range must verify");
        group.MapGet("", ListAsync)
            .WithSummary("The archives, oldest first: which records each holds, its file and the file's SHA-256");
        group.MapGet("/{throughSequence:long}/file", Download)
            .WithSummary("Download an archive file (JSON lines, as export writes records, after a header line)");
    }

    private static async Task<Results<Created<AuditArchiveView>, ProblemHttpResult>> ArchiveAsync(
        AuditArchiveRequest? request, AuditArchiving archiving, CancellationToken ct)
    {
        try
        {
            var archive = await archiving.ArchiveAsync(request?.ThroughSequence, request?.Before, ct);
            return TypedResults.Created($"/api/v1/audit/archives/{archive.ThroughSequence}/file", AuditViews.View(archive));
        }
        catch (AuditArchiveRefusedException e)
        {
            return Problems.Conflict(e.Message);
        }
    }

    private static async Task<Ok<List<AuditArchiveView>>> ListAsync(ICofferStorage storage, CancellationToken ct) =>
        TypedResults.Ok((await storage.Audit.ListArchivesAsync(ct)).Select(AuditViews.View).ToList());

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Download(
        long throughSequence, ICofferStorage storage, Hosting.CofferOptions options, CancellationToken ct)
    {
        var archive = (await storage.Audit.ListArchivesAsync(ct)).FirstOrDefault(a => a.ThroughSequence == throughSequence);
        var path = archive is null ? null : AuditArchiveFile.PathOf(options.ResolvedAuditArchiveDirectory, archive);
        if (archive is null || !File.Exists(path))
        {
            return Problems.NotFound(archive is null
                ? $"No archive ends at record {throughSequence}."
                : $"The archive file {archive.FileName} is not in the archive directory (moved away?).");
        }

        return TypedResults.File(File.OpenRead(path!), "application/x-ndjson", Path.GetFileName(path));
    }
}
