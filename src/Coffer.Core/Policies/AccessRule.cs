using System.Net;

namespace Coffer.Policies;

/// <summary>
/// A compiled rule: its matchers parsed, region sets expanded and values frozen, so matching reads
/// memory only and allocates nothing. Built by <see cref="AccessPolicyCompiler"/>; immutable.
/// </summary>
public sealed class AccessRule
{
    internal AccessRule(string name, bool deny)
    {
        Name = name;
        IsDeny = deny;
        Reason = "rule=" + name;
    }

    public string Name { get; }

    public bool IsDeny { get; }

    /// <summary><c>rule=NAME</c>, made once so a denial allocates no text.</summary>
    public string Reason { get; }

    internal int Operations { get; init; }
    internal TextMatcher? KmsOperation { get; init; }
    internal TextMatcher? AwsPrincipalArn { get; init; }
    internal TextMatcher? AwsAccount { get; init; }
    internal TextMatcher? KmsKeyAccount { get; init; }
    internal TextMatcher? KmsKeyRegion { get; init; }
    internal TextMatcher? SigningRegion { get; init; }
    internal TextMatcher? KmsViaService { get; init; }
    internal TextMatcher? AwsSourceVpc { get; init; }
    internal TextMatcher? AwsSourceVpce { get; init; }
    internal IPNetwork[]? SourceIp { get; init; }
    internal DateTimeOffset? NotBefore { get; init; }
    internal DateTimeOffset? NotAfter { get; init; }

    internal bool NeedsKeyArn => KmsKeyAccount is not null || KmsKeyRegion is not null;

    internal bool NeedsPrincipalAccount => AwsAccount is not null;

    /// <summary>Whether every matcher of this rule matches: the cheap ones first.</summary>
    internal bool Matches(scoped in AccessFacts facts)
    {
        var request = facts.Request;
        return (Operations == 0 || (Operations & (int)request.Operation) != 0)
            && (NotBefore is not { } from || request.Now >= from)
            && (NotAfter is not { } until || request.Now < until)
            && (KmsOperation is null || KmsOperation.Matches(request.KmsOperation))
            && (SigningRegion is null || SigningRegion.Matches(request.SigningRegion))
            && (KmsKeyRegion is null || KmsKeyRegion.Matches(facts.KeyRegion))
            && (KmsKeyAccount is null || KmsKeyAccount.Matches(facts.KeyAccount))
            && (AwsAccount is null || AwsAccount.Matches(facts.PrincipalAccount))
            && (AwsPrincipalArn is null || AwsPrincipalArn.Matches(request.AwsPrincipalArn))
            && (KmsViaService is null || KmsViaService.Matches(request.KmsViaService))
            && (AwsSourceVpc is null || AwsSourceVpc.Matches(request.AwsSourceVpc))
            && (AwsSourceVpce is null || AwsSourceVpce.Matches(request.AwsSourceVpce))
            && (SourceIp is null || Contains(SourceIp, facts.SourceIp));
    }

    private static bool Contains(IPNetwork[] networks, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The parts of a request that need parsing, parsed once per decision (and only when a
/// rule looks at them). A malformed ARN leaves its parts empty, so no account or region matcher
/// matches it.</summary>
internal ref struct AccessFacts
{
    public AccessRequest Request;
    public ReadOnlySpan<char> KeyRegion;
    public ReadOnlySpan<char> KeyAccount;
    public ReadOnlySpan<char> PrincipalAccount;
    public IPAddress? SourceIp;
}
