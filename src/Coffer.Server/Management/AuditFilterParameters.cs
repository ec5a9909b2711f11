using Coffer.Audit;
using Coffer.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Coffer.Server.Management;

/// <summary>
/// The filters /audit/records and /audit/export share, bound from the query string (<c>[AsParameters]</c>).
/// Each names its query parameter: without it the OpenAPI document would show the property's name.
/// </summary>
internal sealed class AuditFilterParameters
{
    [FromQuery(Name = "from")]
    public DateTimeOffset? From { get; init; }

    [FromQuery(Name = "to")]
    public DateTimeOffset? To { get; init; }

    [FromQuery(Name = "keyId")]
    public string? KeyId { get; init; }

    [FromQuery(Name = "keyStore")]
    public string? KeyStore { get; init; }

    /// <summary>Who made the records, as the listing shows it: an actor id, or <c>system</c> or
    /// <c>anonymous</c> for the records of actors without one.</summary>
    [FromQuery(Name = "actor")]
    public string? Actor { get; init; }

    [FromQuery(Name = "action")]
    public string? Action { get; init; }

    /// <summary>ok, denied, error or requested.</summary>
    [FromQuery(Name = "outcome")]
    public string? Outcome { get; init; }

    [FromQuery(Name = "kmsRequestId")]
    public string? KmsRequestId { get; init; }

    [FromQuery(Name = "region")]
    public string? Region { get; init; }

    [FromQuery(Name = "account")]
    public string? Account { get; init; }

    /// <summary>The query these filters make, or the refusal of one that is not valid.</summary>
    public (AuditQuery? Query, ProblemHttpResult? Refusal) ToQuery()
    {
        AuditOutcome? outcome = null;
        if (Outcome is not null)
        {
            if (!AuditOutcomes.TryParse(Outcome, out var parsed))
            {
                return (null, Problems.BadRequest("outcome is ok, denied, error or requested."));
            }

            outcome = parsed;
        }

        return (new AuditQuery
        {
            From = From,
            To = To,
            KeyId = KeyId,
            KeyStore = KeyStore,
            Actor = Actor,
            Action = Action,
            Outcome = outcome,
            KmsRequestId = KmsRequestId,
            AwsRegion = Region,
            AwsAccount = Account,
        }, null);
    }
}
