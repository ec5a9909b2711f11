using Coffer.Policies;

namespace Coffer.KillSwitches;

/// <summary>
/// The engaged kill switches, immutable, checked on every XKS key call from memory: empty is one
/// branch, and an engaged set is a handful of comparisons (there are rarely more than a few).
/// Region, account and principal values match as access rules match kmsKeyRegion, awsAccount and
/// awsPrincipalArn: through the same <see cref="TextMatcher"/> and <see cref="ArnText"/>, so a
/// principal switch <c>arn:aws:iam::111122223333:role/*</c> blocks every role of that account.
/// </summary>
public sealed class KillSwitchSet
{
    private readonly KillSwitch[] _engaged;
    private readonly TextMatcher?[] _matchers;

    /// <param name="regionSets">Named region sets (eea, eu-adequacy, the user's): a region switch whose
    /// value names one covers all its regions, as they were when the set was loaded.</param>
    public KillSwitchSet(IEnumerable<KillSwitch> switches, IReadOnlyDictionary<string, IReadOnlyList<string>>? regionSets = null)
    {
        ArgumentNullException.ThrowIfNull(switches);
        _engaged = [.. switches.Where(s => s.Engaged).OrderBy(s => s.EngagedAt)];
        _matchers = [.. _engaged.Select(s => Matcher(s, regionSets))];
    }

    public static KillSwitchSet Empty { get; } = new([]);

    public IReadOnlyList<KillSwitch> Engaged => _engaged;

    /// <summary>The first engaged switch that covers <paramref name="call"/>, or null.</summary>
    public KillSwitch? Match(in KillSwitchCall call)
    {
        for (var i = 0; i < _engaged.Length; i++)
        {
            if (Covers(_engaged[i], _matchers[i], call))
            {
                return _engaged[i];
            }
        }

        return null;
    }

    private static TextMatcher? Matcher(KillSwitch s, IReadOnlyDictionary<string, IReadOnlyList<string>>? regionSets) => s switch
    {
        { Value: null } => null,
        { Scope: KillSwitchScope.Region } when regionSets is not null && regionSets.TryGetValue(s.Value, out var set) => TextMatcher.Of([.. set]),
        { Scope: KillSwitchScope.Region or KillSwitchScope.Account or KillSwitchScope.Principal } => TextMatcher.Of([s.Value]),
        _ => null,
    };

    private static bool Covers(KillSwitch s, TextMatcher? matcher, in KillSwitchCall call) => s.Scope switch
    {
        KillSwitchScope.All => true,
        KillSwitchScope.KeyStore => s.Value == call.KeyStoreId,
        KillSwitchScope.Key => s.Value == call.KeyId,
        KillSwitchScope.Region => Matches(matcher, call.Region),
        KillSwitchScope.Account => Matches(matcher, call.KeyAccount) || MatchesPrincipalAccount(matcher, call.PrincipalArn),
        KillSwitchScope.Principal => Matches(matcher, call.PrincipalArn),
        KillSwitchScope.Vpc => s.Value == call.Vpc,
        KillSwitchScope.Vpce => s.Value == call.Vpce,
        _ => true, // an unknown scope blocks: a switch must never fail open
    };

    // A region, account or principal switch stored without a value names nothing to narrow it: it blocks.
    private static bool Matches(TextMatcher? matcher, ReadOnlySpan<char> value) => matcher is null || matcher.Matches(value);

    private static bool MatchesPrincipalAccount(TextMatcher? matcher, string? principalArn) =>
        ArnText.TryPrincipalAccount(principalArn, out var account) && Matches(matcher, account);
}
