using Coffer.Server.Seal;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Coffer.Server.Management;

/// <summary>RFC 7807 answers of the management API, each with a message that says what to do.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string detail) => Make(400, "Invalid request", detail);

    public static ProblemHttpResult Unauthorized(string detail) => Make(401, "Not authenticated", detail);

    public static ProblemHttpResult NotFound(string detail) => Make(404, "Not found", detail);

    public static ProblemHttpResult Conflict(string detail) => Make(409, "Conflict", detail);

    public static ProblemHttpResult Sealed(string detail) => Make(503, "Coffer is sealed", detail);

    /// <summary>Fail closed: the audit log could not record the request, so it was not carried out.</summary>
    public static ProblemHttpResult AuditUnavailable() =>
        Make(503, "Audit log unavailable", "The audit log could not record this request, so nothing was changed. Retry later; the server log says why.");

    /// <summary>The database could not be reached or did not answer in time (docs/cluster.md, "When the
    /// database is gone"); what the driver said is for the server log.</summary>
    public static ProblemHttpResult DatabaseUnavailable() =>
        Make(503, "Database unavailable", "Coffer cannot reach its database right now. Retry shortly; the server log says why.");

    /// <summary>The problem a known failure answers, or null for one whose details only the log may see.</summary>
    public static ProblemHttpResult? For(Exception e) => e switch
    {
        NotFoundException => NotFound(e.Message),
        InvalidRequestException => BadRequest(e.Message),
        SealedException => Sealed(e.Message),
        // Stored but not yet in force here: the caller must know, and its message names a topic only.
        Coffer.Changes.ChangeNotInForceException => Make(503, "Change not yet in force", e.Message),
        Audit.AuditUnavailableException => AuditUnavailable(),
        // The database is down, unreachable or timed out (Npgsql and SQLite both say so with IsTransient).
        System.Data.Common.DbException { IsTransient: true } => DatabaseUnavailable(),
        SealStateException or ConflictException => Conflict(e.Message),
        // Crypto messages never carry key material or secrets (CryptoException's contract).
        Coffer.Crypto.CryptoException => Make(409, "Key material problem", e.Message),
        Coffer.Crypto.CryptoBackendUnavailableException => BackendUnavailable(),
        BadHttpRequestException bad => Make(bad.StatusCode, "Invalid request", "The request could not be read: " + bad.Message),
        _ => null,
    };

    /// <summary>What a caller is told when a key backend cannot serve now
    /// (<see cref="Coffer.Crypto.CryptoBackendUnavailableException"/>); the backend's own message,
    /// with its device error code, is for the server log.</summary>
    public const string BackendUnavailableDetail = Refusals.BackendUnavailable;

    public static ProblemHttpResult BackendUnavailable() => Make(503, "HSM unavailable", BackendUnavailableDetail);

    public static ProblemHttpResult Make(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: $"https://coffer.dev/problems/{status}");
}
