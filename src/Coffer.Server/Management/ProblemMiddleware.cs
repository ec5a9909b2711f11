using Coffer.Server.Seal;
using Coffer.Storage;
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
            var problem = e switch
            {
                SealedException => Problems.Sealed(e.Message),
                // Stored but not yet in force here: the caller must know, and its message names a topic only.
                Coffer.Changes.ChangeNotInForceException => Problems.Make(503, "Change not yet in force", e.Message),
                Audit.AuditUnavailableException => Problems.AuditUnavailable(),
                SealStateException => Problems.Conflict(e.Message),
                ConflictException => Problems.Conflict(e.Message),
                // Crypto messages never carry key material or secrets (CryptoException's contract).
                Coffer.Crypto.CryptoException => Problems.Make(409, "Key material problem", e.Message),
                Coffer.Crypto.CryptoBackendUnavailableException => Problems.BackendUnavailable(),
                BadHttpRequestException bad => Problems.Make(bad.StatusCode, "Invalid request", "The request could not be read: " + bad.Message),
                _ => null,
            };
            if (problem is null)
            {
                Log.Unexpected(logger, e.GetType().Name, context.Request.Path, e);
                problem = Problems.Make(500, "Internal error", "Coffer could not complete the request; the server log has details.");
            }

            context.Response.Clear();
            await problem.ExecuteAsync(context);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3000, Level = LogLevel.Error, Message = "Management request {Path} failed with {ExceptionType}")]
        public static partial void Unexpected(ILogger logger, string exceptionType, string path, Exception exception);
    }
}
