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
        HasAllow = rules.Any(r => !r.IsDeny);
    }

    public static AccessRuleSet Empty { get; } = new([]);

    public IReadOnlyList<AccessRule> Rules { get; }

    internal bool NeedsKeyArn { get; }

    internal bool NeedsPrincipalAccount { get; }

    internal bool NeedsSourceIp { get; }

    /// <summary>Whether any rule allows: then one of them must match for this level to allow a call.</summary>
    internal bool HasAllow { get; }

    public bool IsEmpty => Rules.Count == 0;
}
