using Coffer.Policies;
using Coffer.Testing;

namespace Coffer.Core.Tests.Policies;

/// <summary>
/// The decision table of docs/access-rules.md, read from the file, row by row: the documented
/// decision is what <see cref="AccessPolicy"/> decides, and the "Before" column is what the rule
/// before this version decided. The table is written once, so no copy can drift from it.
/// </summary>
public sealed class AccessDecisionTableTests
{
    private const string Begin = "<!-- access-decision-table -->";
    private const string End = "<!-- /access-decision-table -->";
    private const string RolePrefix = "arn:aws:iam::111122223333:role/";

    public static TheoryData<string> Rows()
    {
        var rows = new TheoryData<string>();
        foreach (var row in TableOf("docs/access-rules.md").Skip(2))
        {
            rows.Add(row);
        }

        return rows;
    }

    [Fact]
    public void The_table_is_written_once_and_has_rows()
    {
        var doc = TableOf("docs/access-rules.md");

        Assert.True(doc.Count > 10, "the decision table has its header and more than eight rows");
        var copies = Directory.EnumerateFiles(Path.Combine(TestData.RepositoryRoot, "docs"), "*.md")
            .Append(Path.Combine(TestData.RepositoryRoot, "README.md"))
            .Count(f => File.ReadAllText(f).Contains(Begin, StringComparison.Ordinal));
        Assert.Equal(1, copies);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_documented_row_is_what_Coffer_decides_and_what_it_decided_before(string row)
    {
        var cells = row.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
        Assert.Equal(5, cells.Length);
        var (store, key) = (Rules(cells[0], "s"), Rules(cells[1], "k"));
        var call = Call(cells[2].Trim('`'));

        var now = AccessPolicy.Decide(Compile(store), Compile(key), call);
        var before = Before(store, key, call);

        Assert.Equal(cells[3].Replace("**", "", StringComparison.Ordinal), Describe(now));
        Assert.Equal(cells[4], before.Allowed ? "allowed" : "denied");
        Assert.Equal(now.Allowed != before.Allowed, cells[3].StartsWith("**", StringComparison.Ordinal)); // bold marks a change
    }

    /// <summary>The change is fail-safe: over every pair of small documents and every caller, a call
    /// allowed now was allowed before.</summary>
    [Fact]
    public void Nothing_denied_before_is_allowed_now()
    {
        string[] pool = ["allow app-*", "allow *", "allow web", "deny app-b", "deny *"];
        var documents = Enumerable.Range(0, 1 << pool.Length)
            .Select(mask => pool.Where((_, i) => (mask & (1 << i)) != 0).ToArray())
            .Where(rules => rules.Length <= 2)
            .ToList();
        var checkedCalls = 0;
        foreach (var storeRules in documents)
        {
            foreach (var keyRules in documents)
            {
                var store = Named(storeRules, "s");
                var key = Named(keyRules, "k");
                var (storeSet, keySet) = (Compile(store), Compile(key));
                foreach (var role in new[] { "app-a", "app-b", "web" })
                {
                    var call = Call(role);
                    var now = AccessPolicy.Decide(storeSet, keySet, call);
                    Assert.True(!now.Allowed || Before(store, key, call).Allowed, $"store [{string.Join(", ", storeRules)}], key [{string.Join(", ", keyRules)}], {role}");
                    checkedCalls++;
                }
            }
        }

        Assert.Equal(16 * 16 * 3, checkedCalls);
    }

    /// <summary>The table between the markers: header, separator and rows, trimmed.</summary>
    private static List<string> TableOf(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(TestData.RepositoryRoot, file));
        var begin = Array.IndexOf(lines, Begin);
        var end = Array.IndexOf(lines, End);
        Assert.True(begin >= 0 && end > begin, $"{file} has the decision table between {Begin} and {End}");
        return [.. lines[(begin + 1)..end].Select(l => l.Trim())];
    }

    /// <summary><c>`s1 allow app-*`, `s2 deny web`</c> as rule documents; <c>—</c> is no document.</summary>
    private static List<AccessRuleDocument> Rules(string cell, string level)
    {
        if (cell == "—")
        {
            return [];
        }

        return [.. cell.Split(", ").Select(entry =>
        {
            var parts = entry.Trim('`').Split(' ');
            Assert.Equal(3, parts.Length);
            Assert.StartsWith(level, parts[0], StringComparison.Ordinal);
            return Rule(parts[0], parts[1], parts[2]);
        })];
    }

    private static List<AccessRuleDocument> Named(string[] rules, string level) =>
        [.. rules.Select((r, i) => r.Split(' ') is [var effect, var role] ? Rule($"{level}{i + 1}", effect, role) : throw new ArgumentException(r))];

    private static AccessRuleDocument Rule(string name, string effect, string role) =>
        new() { Name = name, Effect = effect, AwsPrincipalArn = [RolePrefix + role] };

    private static AccessRuleSet Compile(List<AccessRuleDocument> rules)
    {
        Assert.True(AccessPolicyCompiler.TryCompile(new AccessPolicyDocument { Rules = rules }, _ => null, out var set, out var error), error?.ToString());
        return set;
    }

    /// <summary>The rule before this version: a key's rules were read as if they followed its key
    /// store's in one document, so any matching allow at either level allowed the call.</summary>
    private static AccessDecision Before(List<AccessRuleDocument> store, List<AccessRuleDocument> key, in AccessRequest call) =>
        AccessPolicy.Decide(Compile([.. store, .. key]), null, call);

    private static AccessRequest Call(string role) => new()
    {
        Operation = AccessOperation.Encrypt,
        AwsPrincipalArn = RolePrefix + role,
        Now = DateTimeOffset.UnixEpoch,
    };

    private static string Describe(AccessDecision decision) =>
        (decision.Allowed ? "allowed" : "denied") + (decision.Reason is { } reason ? $" (`{reason}`)" : "");
}
