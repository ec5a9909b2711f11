using System.Net;

namespace Coffer.Policies;

/// <summary>The XKS operations rules can name.</summary>
public enum AccessOperation
{
    Encrypt = 1,
    Decrypt = 2,
    Metadata = 4,
}

/// <summary>What a rule may look at in one XKS call: the request's metadata (XKS spec,
/// "requestMetadata"), the SigV4 scope's region, the caller's address and the time.</summary>
public readonly struct AccessRequest
{
    public AccessOperation Operation { get; init; }
    public string? KmsOperation { get; init; }
    public string? AwsPrincipalArn { get; init; }
    public string? KmsKeyArn { get; init; }
    public string? SigningRegion { get; init; }
    public string? KmsViaService { get; init; }
    public string? AwsSourceVpc { get; init; }
    public string? AwsSourceVpce { get; init; }
    public IPAddress? SourceIp { get; init; }
    public DateTimeOffset Now { get; init; }
}

/// <summary>The outcome of <see cref="AccessPolicy.Decide"/> and the rule that made it.</summary>
/// <param name="Rule">The deny rule that matched; or the first allow rule that matched, the key store's
/// before the key's; or null: no rules at all (allowed) or not allowed (denied).</param>
public readonly record struct AccessDecision(bool Allowed, AccessRule? Rule)
{
    public const string NoRuleAllowed = "no rule allowed";

    /// <summary>What the audit record and log line say: <c>rule=NAME</c>, <c>no rule allowed</c>, or
    /// null when no rules apply.</summary>
    public string? Reason => Rule?.Reason ?? (Allowed ? null : NoRuleAllowed);
}
