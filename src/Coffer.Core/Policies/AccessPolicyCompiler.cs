using System.Net;

namespace Coffer.Policies;

/// <summary>A refused rule document: the field at fault (<c>rules[2].sourceIp[0]</c>) and why.</summary>
public sealed record AccessPolicyError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// Checks a rule document completely and compiles it into an <see cref="AccessRuleSet"/>, or names
/// the first field at fault. Nothing is half-accepted: a document is compiled whole or refused.
/// </summary>
public static class AccessPolicyCompiler
{
    public const int MaxRules = 500;
    public const int MaxValues = 200;
    public const int MaxPatternLength = TextMatcher.MaxValueLength;

    /// <param name="regionSet">The regions of a set by name (built-in or user-defined), or null for an unknown set.</param>
    public static bool TryCompile(AccessPolicyDocument document, Func<string, IReadOnlyList<string>?> regionSet, out AccessRuleSet rules, out AccessPolicyError? error)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(regionSet);
        rules = AccessRuleSet.Empty;
        error = null;
        if (document.Rules is null)
        {
            error = new("rules", "is required: a list of rules (an empty list means no rules).");
            return false;
        }

        if (document.Rules.Count > MaxRules)
        {
            error = new("rules", $"holds at most {MaxRules} rules.");
            return false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var compiled = new AccessRule[document.Rules.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            var at = $"rules[{i}]";
            var rule = document.Rules[i];
            if (rule is null)
            {
                error = new(at, "is null; a rule is an object with at least name and effect.");
                return false;
            }

            var result = new RuleBuilder(at, regionSet).Build(rule, names);
            if (result.Error is not null)
            {
                error = result.Error;
                return false;
            }

            compiled[i] = result.Rule!;
        }

        rules = new AccessRuleSet(compiled);
        return true;
    }

    private readonly record struct Result(AccessRule? Rule, AccessPolicyError? Error);

    private sealed class RuleBuilder(string at, Func<string, IReadOnlyList<string>?> regionSet)
    {
        private AccessPolicyError? _error;

        public Result Build(AccessRuleDocument rule, HashSet<string> names)
        {
            if (!IsName(rule.Name))
            {
                return Fail("name", "is required: 1 to 64 letters, digits, '.', '_' or '-' (denials name it).");
            }

            if (!names.Add(rule.Name!))
            {
                return Fail("name", $"'{rule.Name}' is used by an earlier rule; names are unique in a document.");
            }

            var deny = rule.Effect switch
            {
                "allow" => false,
                "deny" => true,
                _ => (bool?)null,
            };
            if (deny is null)
            {
                return Fail("effect", "is required: allow or deny.");
            }

            if (rule.Description is { Length: > 1024 })
            {
                return Fail("description", "is at most 1024 characters.");
            }

            if (rule.NotBefore is { } from && rule.NotAfter is { } until && from >= until)
            {
                return Fail("notAfter", "must be later than notBefore.");
            }

            var built = new AccessRule(rule.Name!, deny.Value)
            {
                Operations = Operations(rule.Operation),
                KmsOperation = Patterns("kmsOperation", rule.KmsOperation),
                AwsPrincipalArn = Patterns("awsPrincipalArn", rule.AwsPrincipalArn),
                AwsAccount = Accounts("awsAccount", rule.AwsAccount),
                KmsKeyAccount = Accounts("kmsKeyAccount", rule.KmsKeyAccount),
                KmsKeyRegion = Regions("kmsKeyRegion", rule.KmsKeyRegion),
                SigningRegion = Regions("signingRegion", rule.SigningRegion),
                KmsViaService = Patterns("kmsViaService", rule.KmsViaService),
                AwsSourceVpc = Patterns("awsSourceVpc", rule.AwsSourceVpc),
                AwsSourceVpce = Patterns("awsSourceVpce", rule.AwsSourceVpce),
                SourceIp = Networks("sourceIp", rule.SourceIp),
                NotBefore = rule.NotBefore,
                NotAfter = rule.NotAfter,
            };
            return _error is null ? new Result(built, null) : new Result(null, _error);
        }

        private Result Fail(string field, string message)
        {
            _error ??= new AccessPolicyError($"{at}.{field}", message);
            return new Result(null, _error);
        }

        private void Error(string field, int index, string message) =>
            _error ??= new AccessPolicyError($"{at}.{field}[{index}]", message);

        /// <summary>False (with the error set) for an empty or oversized list.</summary>
        private bool Listed(string field, List<string>? values)
        {
            if (values is null)
            {
                return false;
            }

            if (values.Count is 0 or > MaxValues)
            {
                _error ??= new AccessPolicyError($"{at}.{field}", $"lists 1 to {MaxValues} values; leave it out to match any value.");
                return false;
            }

            return true;
        }

        private int Operations(List<string>? values)
        {
            if (!Listed("operation", values))
            {
                return 0;
            }

            var bits = 0;
            for (var i = 0; i < values!.Count; i++)
            {
                bits |= values[i] switch
                {
                    "encrypt" => (int)AccessOperation.Encrypt,
                    "decrypt" => (int)AccessOperation.Decrypt,
                    "metadata" => (int)AccessOperation.Metadata,
                    _ => Unknown(i),
                };
            }

            return bits;

            int Unknown(int i)
            {
                Error("operation", i, "is encrypt, decrypt or metadata (health is never subject to rules).");
                return 0;
            }
        }

        private TextMatcher? Patterns(string field, List<string>? values)
        {
            if (!Listed(field, values))
            {
                return null;
            }

            for (var i = 0; i < values!.Count; i++)
            {
                if (!TextMatcher.IsValue(values[i]))
                {
                    Error(field, i, $"is a value of 1 to {MaxPatternLength} printable ASCII characters without spaces; '*' matches any run of characters.");
                    return null;
                }
            }

            return TextMatcher.Of(values);
        }

        private TextMatcher? Accounts(string field, List<string>? values)
        {
            if (!Listed(field, values))
            {
                return null;
            }

            for (var i = 0; i < values!.Count; i++)
            {
                if (!ArnText.IsAccount(values[i]))
                {
                    Error(field, i, "is an AWS account id: exactly 12 digits.");
                    return null;
                }
            }

            return new TextMatcher(values, []);
        }

        private TextMatcher? Regions(string field, List<string>? values)
        {
            if (!Listed(field, values))
            {
                return null;
            }

            var exact = new List<string>();
            var patterns = new List<string>();
            for (var i = 0; i < values!.Count; i++)
            {
                var value = values[i] ?? string.Empty;
                if (value.Contains('*', StringComparison.Ordinal))
                {
                    if (!ArnText.IsRegion(value.Replace("*", "", StringComparison.Ordinal)) && value.Any(c => c != '*'))
                    {
                        Error(field, i, "is a region pattern of a-z, 0-9, '-' and '*' (eu-*).");
                        return null;
                    }

                    patterns.Add(value);
                }
                else if (RegionSets.IsRegionName(value))
                {
                    exact.Add(value);
                }
                else if (regionSet(value) is { } set)
                {
                    exact.AddRange(set);
                }
                else
                {
                    Error(field, i, $"'{Printable(value)}' is neither a region (eu-west-1) nor a known region set (eea, eu-adequacy, or one defined with PUT /api/v1/region-sets/NAME).");
                    return null;
                }
            }

            return new TextMatcher(exact, patterns);
        }

        private IPNetwork[]? Networks(string field, List<string>? values)
        {
            if (!Listed(field, values))
            {
                return null;
            }

            var networks = new IPNetwork[values!.Count];
            for (var i = 0; i < networks.Length; i++)
            {
                var value = values[i] ?? string.Empty;
                if (IPNetwork.TryParse(value, out var network) && IsBaseAddress(value, network))
                {
                    networks[i] = network;
                }
                else if (!value.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(value, out var single))
                {
                    networks[i] = new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
                }
                else
                {
                    Error(field, i, $"'{Printable(value)}' is not a CIDR block (10.0.0.0/8, 2001:db8::/32) or an IP address; the address part must have no bits set beyond the prefix.");
                    return null;
                }
            }

            return networks;
        }

        /// <summary>Whether the address part has no bits beyond the prefix (10.0.0.1/8 is refused: it
        /// most likely means a host, not the network 10.0.0.0/8).</summary>
        private static bool IsBaseAddress(string value, IPNetwork network)
        {
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            return slash > 0 && IPAddress.TryParse(value.AsSpan(0, slash), out var address) && address.Equals(network.BaseAddress);
        }

        private static bool IsName(string? name) =>
            name is { Length: > 0 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

        // Input echoed in a message is cut short and stripped of anything but printable ASCII.
        private static string Printable(string value) =>
            new([.. value.Take(64).Select(c => c is >= ' ' and <= '~' ? c : '?')]);
    }
}
