namespace Coffer.KillSwitches;

/// <summary>What an engaged kill switch cuts off (docs/design.md, "Policies and control"; issue 6).</summary>
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
    /// <summary>Calls by this AWS principal (requestMetadata.awsPrincipalArn, exact).</summary>
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

/// <summary>
/// The engaged kill switches, immutable, checked on every XKS key call from memory: empty is one
/// branch, and an engaged set is a handful of comparisons (there are rarely more than a few).
/// </summary>
public sealed class KillSwitchSet
{
    private readonly KillSwitch[] _engaged;
    private readonly HashSet<string>?[] _regions;

    /// <param name="regionSets">Named region sets (eea, eu-adequacy, the user's): a region switch whose
    /// value names one covers all its regions, as they were when the set was loaded.</param>
    public KillSwitchSet(IEnumerable<KillSwitch> switches, IReadOnlyDictionary<string, IReadOnlyList<string>>? regionSets = null)
    {
        ArgumentNullException.ThrowIfNull(switches);
        _engaged = [.. switches.Where(s => s.Engaged).OrderBy(s => s.EngagedAt)];
        _regions = [.. _engaged.Select(s => s.Scope == KillSwitchScope.Region && s.Value is not null && regionSets?.TryGetValue(s.Value, out var set) == true
            ? new HashSet<string>(set, StringComparer.Ordinal)
            : null)];
    }

    public static KillSwitchSet Empty { get; } = new([]);

    public IReadOnlyList<KillSwitch> Engaged => _engaged;

    /// <summary>The first engaged switch that covers <paramref name="call"/>, or null.</summary>
    public KillSwitch? Match(in KillSwitchCall call)
    {
        for (var i = 0; i < _engaged.Length; i++)
        {
            if (Covers(_engaged[i], _regions[i], call))
            {
                return _engaged[i];
            }
        }

        return null;
    }

    private static bool Covers(KillSwitch s, HashSet<string>? regionSet, in KillSwitchCall call) => s.Scope switch
    {
        KillSwitchScope.All => true,
        KillSwitchScope.KeyStore => s.Value == call.KeyStoreId,
        KillSwitchScope.Key => s.Value == call.KeyId,
        KillSwitchScope.Region => s.Value == call.Region || (regionSet is not null && call.Region is not null && regionSet.Contains(call.Region)),
        KillSwitchScope.Account => s.Value == call.KeyAccount || s.Value == PrincipalAccount(call.PrincipalArn),
        KillSwitchScope.Principal => s.Value == call.PrincipalArn,
        KillSwitchScope.Vpc => s.Value == call.Vpc,
        KillSwitchScope.Vpce => s.Value == call.Vpce,
        _ => true, // an unknown scope blocks: a switch must never fail open
    };

    /// <summary>The account of <c>arn:PARTITION:SERVICE:REGION:ACCOUNT:...</c>, or null.</summary>
    public static string? PrincipalAccount(string? arn)
    {
        if (arn is null || !arn.StartsWith("arn:", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[4].Length == 12 && parts[4].All(char.IsAsciiDigit) ? parts[4] : null;
    }
}
