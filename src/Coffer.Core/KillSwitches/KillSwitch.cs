using Coffer.Policies;

namespace Coffer.KillSwitches;

/// <summary>What an engaged kill switch cuts off (docs/design.md, "Policies and control").</summary>
public enum KillSwitchScope
{
    /// <summary>Every XKS key call, whatever its key store.</summary>
    All,
    KeyStore,
    Key,
    /// <summary>Calls for KMS keys in this AWS region (from requestMetadata.kmsKeyArn).</summary>
    Region,
    /// <summary>Calls whose KMS key or principal belongs to this AWS account.</summary>
    Account,
    /// <summary>Calls by this AWS principal (requestMetadata.awsPrincipalArn), exact or with <c>*</c>
    /// wildcards as in access rules.</summary>
    Principal,
    Vpc,
    Vpce,
}

/// <summary>The scopes' names in the API, the CLI and the database.</summary>
public static class KillSwitchScopes
{
    public static string ToText(KillSwitchScope scope) => scope switch
    {
        KillSwitchScope.All => "all",
        KillSwitchScope.KeyStore => "keystore",
        KillSwitchScope.Key => "key",
        KillSwitchScope.Region => "region",
        KillSwitchScope.Account => "account",
        KillSwitchScope.Principal => "principal",
        KillSwitchScope.Vpc => "vpc",
        KillSwitchScope.Vpce => "vpce",
        _ => throw new ArgumentOutOfRangeException(nameof(scope)),
    };

    public static bool TryParse(string? text, out KillSwitchScope scope)
    {
        foreach (var candidate in Enum.GetValues<KillSwitchScope>())
        {
            if (ToText(candidate) == text)
            {
                scope = candidate;
                return true;
            }
        }

        scope = KillSwitchScope.All;
        return false;
    }

    /// <summary>Why <paramref name="value"/> is not what <paramref name="scope"/> names, or null. A value
    /// must look like what its scope names, so a typo is refused instead of blocking nothing; principals
    /// and accounts are checked as access rules check awsPrincipalArn and awsAccount.</summary>
    /// <param name="isRegionSet">Whether a name is a region set (built-in or the user's).</param>
    public static string? ValueProblem(KillSwitchScope scope, string? value, Func<string, bool> isRegionSet)
    {
        ArgumentNullException.ThrowIfNull(isRegionSet);
        if (scope == KillSwitchScope.All)
        {
            return value is null ? null : "scope all takes no value.";
        }

        if (string.IsNullOrEmpty(value) || value.Length > TextMatcher.MaxValueLength)
        {
            return $"scope {ToText(scope)} needs a value (up to {TextMatcher.MaxValueLength} characters).";
        }

        return scope switch
        {
            KillSwitchScope.Region when !AwsRegions.IsKnown(value) && !isRegionSet(value) => RegionProblem(value),
            KillSwitchScope.Account when !ArnText.IsAccount(value) => "value is a 12-digit AWS account id.",
            KillSwitchScope.Principal when !value.StartsWith("arn:", StringComparison.Ordinal) || !TextMatcher.IsValue(value) =>
                "value is an AWS principal ARN (arn:aws:iam::111122223333:role/app), exact or with '*' wildcards as in access rules (arn:aws:iam::111122223333:role/*), printable ASCII without spaces.",
            KillSwitchScope.Vpc when !value.StartsWith("vpc-", StringComparison.Ordinal) => "value is a VPC id (vpc-...).",
            KillSwitchScope.Vpce when !value.StartsWith("vpce-", StringComparison.Ordinal) => "value is a VPC endpoint id (vpce-...).",
            _ => null,
        };
    }

    // Only a value written like a region is echoed: anything else could be long or hold anything.
    private static string RegionProblem(string value) =>
        (ArnText.IsRegion(value) ? $"value '{value}' is" : "value is")
        + " neither a known AWS region (eu-west-1) nor a region set (eea, eu-adequacy, or one of yours). A region Coffer does not know yet can be blocked through a region set of yours that lists it.";
}

/// <summary>One engaged (or, with <see cref="ReleasedAt"/>, released) kill switch.</summary>
/// <param name="Value">What the scope names (a key store id, key id, region, account, ARN, VPC or VPC
/// endpoint id); null for <see cref="KillSwitchScope.All"/>.</param>
/// <param name="Reason">Why, as the person who engaged it wrote it (shown to administrators, never to AWS).</param>
public sealed record KillSwitch(
    string Id, KillSwitchScope Scope, string? Value, string Reason, string EngagedBy, DateTimeOffset EngagedAt,
    string? ReleasedBy = null, DateTimeOffset? ReleasedAt = null)
{
    public bool Engaged => ReleasedAt is null;
}

/// <summary>What an XKS key call is, for the kill switch: ids from Coffer, the rest from requestMetadata.</summary>
public readonly record struct KillSwitchCall(
    string KeyStoreId, string KeyId, string? Region, string? KeyAccount, string? PrincipalArn, string? Vpc, string? Vpce);
