using System.Collections.Frozen;

namespace Coffer.Policies;

/// <summary>
/// Named sets of AWS regions that rules may use in <c>kmsKeyRegion</c> and <c>signingRegion</c>.
/// The built-in sets and their sources are in docs/access-rules.md; users add
/// their own through the API.
/// </summary>
public static class RegionSets
{
    public const string Eea = "eea";

    public const string EuAdequacy = "eu-adequacy";

    public const int MaxRegions = 200;

    /// <summary>AWS regions physically in the European Economic Area (EU 27, Iceland, Liechtenstein,
    /// Norway). Not eu-central-2 (Zurich, Switzerland) nor eu-west-2 (London, UK).</summary>
    private static readonly string[] EeaRegions =
    [
        "eu-central-1",   // Frankfurt, Germany
        "eu-west-1",      // Ireland
        "eu-west-3",      // Paris, France
        "eu-north-1",     // Stockholm, Sweden
        "eu-south-1",     // Milan, Italy
        "eu-south-2",     // Aragón, Spain
        "eusc-de-east-1", // AWS European Sovereign Cloud, Brandenburg, Germany (partition aws-eusc)
    ];

    /// <summary>The EEA plus regions in countries with an EU adequacy decision (GDPR Art. 45). US
    /// regions are left out: the EU-US Data Privacy Framework covers only certified organisations.</summary>
    private static readonly string[] AdequacyRegions =
    [
        .. EeaRegions,
        "eu-west-2",      // London, United Kingdom
        "eu-central-2",   // Zurich, Switzerland
        "il-central-1",   // Tel Aviv, Israel
        "ap-northeast-1", // Tokyo, Japan
        "ap-northeast-3", // Osaka, Japan
        "ap-northeast-2", // Seoul, Republic of Korea
        "ca-central-1",   // Montréal, Canada (commercial organisations under PIPEDA)
        "ca-west-1",      // Calgary, Canada (commercial organisations under PIPEDA)
        "ap-southeast-6", // Auckland, New Zealand
    ];

    /// <summary>The read-only built-in sets.</summary>
    public static FrozenDictionary<string, IReadOnlyList<string>> BuiltIn { get; } = new Dictionary<string, IReadOnlyList<string>>
    {
        [Eea] = EeaRegions,
        [EuAdequacy] = AdequacyRegions,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="value"/> is written like an AWS region: lower-case words joined
    /// by '-' ending in a number (eu-west-1, us-gov-west-1, eusc-de-east-1).</summary>
    public static bool IsRegionName(ReadOnlySpan<char> value)
    {
        if (!ArnText.IsRegion(value))
        {
            return false;
        }

        var lastDash = value.LastIndexOf('-');
        var firstDash = value.IndexOf('-');
        return firstDash > 0 && lastDash > firstDash && lastDash < value.Length - 1
            && ArnText.AllDigits(value[(lastDash + 1)..])
            && !value[..lastDash].Contains("--", StringComparison.Ordinal)
            && !value[..lastDash].ContainsAnyInRange('0', '9');
    }

    /// <summary>A user set's name: 1 to 64 of a-z, 0-9 and '-', not a built-in, not written like a
    /// region (so a rule's entry is unambiguously a region or a set).</summary>
    public static bool IsValidSetName(string? name, out string error)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || IsRegionName(name)
            || name.Any(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')))
        {
            error = "A region set name is 1 to 64 of a-z, 0-9 and '-', and is not written like a region (eu-west-1).";
            return false;
        }

        if (BuiltIn.ContainsKey(name))
        {
            error = $"'{name}' is a built-in region set and cannot be changed.";
            return false;
        }

        error = string.Empty;
        return true;
    }
}
