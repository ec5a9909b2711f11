using System.Data.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Management;

/// <summary>
/// Turns the management plane's known failures into problem+json and hides everything else behind
/// a generic 500 whose details only reach the log (docs/style.md, practice 6).
/// </summary>
internal sealed partial class ProblemMiddleware(RequestDelegate next, ILogger<ProblemMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var problem = Problems.For(e);
            if (problem is null)
            {
                Log.Unexpected(logger, e.GetType().Name, context.Request.Path, e);
                problem = Problems.Make(500, "Internal error", "Coffer could not complete the request; the server log has details.");
            }
            else if (e is DbException)
            {
                // The caller is told only that the database is unavailable; the driver's reason is logged.
                Log.DatabaseUnavailable(logger, context.Request.Path, e.GetType().Name, e.Message);
            }

            context.Response.Clear();
            await problem.ExecuteAsync(context);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3000, Level = LogLevel.Error, Message = "Management request {Path} failed with {ExceptionType}")]
        public static partial void Unexpected(ILogger logger, string exceptionType, string path, Exception exception);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Management request {Path} answered 503: the database is unavailable ({ExceptionType}: {Reason})")]
        public static partial void DatabaseUnavailable(ILogger logger, string path, string exceptionType, string reason);
    }
}
