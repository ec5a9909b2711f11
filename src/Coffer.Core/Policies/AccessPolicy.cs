using System.Net;

namespace Coffer.Policies;

/// <summary>
/// The access decision of one XKS call (docs/access-rules.md): the key store's rules and the key's
/// rules together. With no rules at all, everything is allowed. Otherwise a matching deny rule at
/// either level wins; each level that has allow rules must allow the call with one of its own (a
/// key's allow narrows its key store's, it never widens it); and some allow rule must match (rules
/// that only deny allow nothing). Pure: no I/O, no clock (the time is in the request), no allocation
/// on a decision.
/// </summary>
public static class AccessPolicy
{
    public static AccessDecision Decide(AccessRuleSet? keyStore, AccessRuleSet? key, in AccessRequest request)
    {
        keyStore ??= AccessRuleSet.Empty;
        key ??= AccessRuleSet.Empty;
        if (keyStore.IsEmpty && key.IsEmpty)
        {
            return new AccessDecision(true, null);
        }

        var facts = new AccessFacts { Request = request };
        if (keyStore.NeedsKeyArn || key.NeedsKeyArn)
        {
            _ = ArnText.TryKmsKey(request.KmsKeyArn, out facts.KeyRegion, out facts.KeyAccount);
        }

        if (keyStore.NeedsPrincipalAccount || key.NeedsPrincipalAccount)
        {
            _ = ArnText.TryPrincipalAccount(request.AwsPrincipalArn, out facts.PrincipalAccount);
        }

        if (keyStore.NeedsSourceIp || key.NeedsSourceIp)
        {
            // A dual-stack listener reports IPv4 callers as ::ffff:a.b.c.d; rules name them as IPv4.
            facts.SourceIp = request.SourceIp is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : request.SourceIp;
        }

        AccessRule? storeAllow = null, keyAllow = null;
        if (Scan(keyStore, ref facts, ref storeAllow) is { } storeDeny)
        {
            return new AccessDecision(false, storeDeny);
        }

        if (Scan(key, ref facts, ref keyAllow) is { } keyDeny)
        {
            return new AccessDecision(false, keyDeny);
        }

        // One level's allow does not make up for the other's: where a level has allow rules, one of
        // them must match. This only ever denies more than "any allow anywhere" did (fail-safe).
        if ((keyStore.HasAllow && storeAllow is null) || (key.HasAllow && keyAllow is null))
        {
            return new AccessDecision(false, null);
        }

        var allowedBy = storeAllow ?? keyAllow;
        return new AccessDecision(allowedBy is not null, allowedBy);
    }

    /// <summary>The first matching deny rule, if any; remembers the first matching allow rule.</summary>
    private static AccessRule? Scan(AccessRuleSet set, ref AccessFacts facts, ref AccessRule? allowedBy)
    {
        foreach (var rule in (AccessRule[])set.Rules)
        {
            if (rule.Matches(in facts))
            {
                if (rule.IsDeny)
                {
                    return rule;
                }

                allowedBy ??= rule;
            }
        }

        return null;
    }

    /// <summary>An address the rules can compare, or null for text that is no IP address.</summary>
    public static IPAddress? ParseAddress(string? text) => IPAddress.TryParse(text, out var address) ? address : null;
}
