namespace Coffer.Policies;

/// <summary>The compiled rules of one key store or key, in document order. Immutable; shared by
/// every request that reads it.</summary>
public sealed class AccessRuleSet
{
    internal AccessRuleSet(AccessRule[] rules)
    {
        Rules = rules;
        NeedsKeyArn = rules.Any(r => r.NeedsKeyArn);
        NeedsPrincipalAccount = rules.Any(r => r.NeedsPrincipalAccount);
        NeedsSourceIp = rules.Any(r => r.SourceIp is not null);
    }

    public static AccessRuleSet Empty { get; } = new([]);

    public IReadOnlyList<AccessRule> Rules { get; }

    internal bool NeedsKeyArn { get; }

    internal bool NeedsPrincipalAccount { get; }

    internal bool NeedsSourceIp { get; }

    public bool IsEmpty => Rules.Count == 0;
}
