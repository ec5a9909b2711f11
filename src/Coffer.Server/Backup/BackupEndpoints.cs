using Coffer.Server.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Backup;

/// <summary>
/// POST /api/v1/backup: an online backup of a SQLite node, streamed as a backup file
/// (docs/backup.md). Administrators only: it declares no permission, so the fallback policy holds
/// (docs/architecture.md, "Management authentication"). The audit filter records the request and its
/// outcome, which names the backup's digest.
/// </summary>
internal static class BackupEndpoints
{
    public const string MediaType = "application/vnd.coffer.backup";

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/backup", TakeAsync).WithTags("Backup").WithAuditAction(BackupService.CreateAction)
            .WithSummary("Take a consistent backup of the database while XKS calls go on (SQLite nodes; administrators only). The file holds sealed material only");

    private static async Task<Results<BackupFileResult, ProblemHttpResult>> TakeAsync(BackupService backups, HttpContext http, CancellationToken ct)
    {
        var snapshot = await backups.TakeAsync(ct);
        // Disposed (its file deleted) when the request ends, whether or not the answer went out.
        http.Response.RegisterForDisposeAsync(snapshot);
        return new BackupFileResult(snapshot);
    }
}

/// <summary>The backup file as the answer; its value is the header, which the audit record reads.</summary>
internal sealed class BackupFileResult(BackupSnapshot snapshot) : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<BackupHeader>, IEndpointMetadataProvider
{
    public int? StatusCode => StatusCodes.Status200OK;

    public BackupHeader Value => snapshot.Header;

    object IValueHttpResult.Value => snapshot.Header;

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(void), [BackupEndpoints.MediaType]));

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = BackupEndpoints.MediaType;
        httpContext.Response.ContentLength = snapshot.Header.ToBytes().Length + snapshot.Header.BodyLength;
        await snapshot.WriteToAsync(httpContext.Response.Body, httpContext.RequestAborted);
    }
}
