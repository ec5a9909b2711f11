using System.Text.RegularExpressions;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Observability;

/// <summary>
/// docs/prometheus/coffer-alerts.yml: valid for Prometheus, each alert proven by promtool's unit tests
/// (coffer-alerts.test.yml) to fire on a failing series and stay quiet on a healthy one, and every metric
/// it names served by a running node's /metrics, so a renamed metric cannot leave a rule silently empty.
/// </summary>
public sealed class AlertRulesTests
{
    private static readonly string Folder = Path.Combine(TestData.RepositoryRoot, "docs", "prometheus");

    [Fact]
    public async Task Promtool_accepts_the_rules_and_passes_their_unit_tests()
    {
        var check = await PromtoolAsync("check", "rules", "coffer-alerts.yml");
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 10 rules found", check.Output, StringComparison.Ordinal);

        var test = await PromtoolAsync("test", "rules", "coffer-alerts.test.yml");
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.Contains("SUCCESS", test.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_alert_has_a_unit_test_that_fires_it_and_one_that_keeps_it_quiet()
    {
        var rules = await File.ReadAllTextAsync(Path.Combine(Folder, "coffer-alerts.yml"));
        var tests = await File.ReadAllTextAsync(Path.Combine(Folder, "coffer-alerts.test.yml"));
        var alerts = Regex.Matches(rules, @"^\s+- alert: (\w+)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(10, alerts.Length);
        foreach (var alert in alerts)
        {
            Assert.Matches(@"(?m)^\s+alertname: " + alert + @"\n\s+exp_alerts:\n\s+- exp_labels:", tests);
            Assert.Matches(@"alertname: " + alert + @", exp_alerts: \[\] \}", tests);
        }
    }

    [Fact]
    public async Task Every_metric_the_rules_name_is_served_by_a_running_node()
    {
        var rules = await File.ReadAllTextAsync(Path.Combine(Folder, "coffer-alerts.yml"));
        var expressions = string.Join('\n', Regex.Matches(rules, @"expr: (\|\n(?:\s{10}.*\n)+|.*)").Select(m => m.Groups[1].Value));
        var named = Regex.Matches(expressions, @"\bcoffer_[a-z_]+").Select(m => m.Value).Distinct().Order().ToArray();
        Assert.Contains("coffer_xks_request_duration_seconds_bucket", named);
        Assert.Contains("coffer_audit_sink_backlog", named);

        // A sink, so its backlog has a series; a call, so the histogram has one (it shows no empty series).
        await using var node = await DevServer.StartAsync(o => o.Audit.File = new() { Enabled = true });
        await XksClient.For(node).MustEncryptAsync(node.Info.KeyId, [1]);
        var text = await node.Admin.GetStringAsync("/metrics");

        var missing = named.Where(name => !Regex.IsMatch(text, "^" + name + "[{ ]", RegexOptions.Multiline)).ToArray();
        Assert.True(missing.Length == 0, $"The rules name metrics that /metrics does not serve: {string.Join(", ", missing)}");
    }

    /// <summary>Runs promtool on a file of docs/prometheus: COFFER_PROMTOOL, else the one ./test.sh extracts
    /// into .build/tools (Debian's prometheus package, not installed as a service), else promtool on PATH.</summary>
    private static async Task<(int ExitCode, string Output)> PromtoolAsync(string command, string what, string file)
    {
        var cached = Path.Combine(TestData.RepositoryRoot, ".build", "tools", "promtool");
        var promtool = Environment.GetEnvironmentVariable("COFFER_PROMTOOL") is { Length: > 0 } given ? given
            : File.Exists(cached) ? cached
            : "promtool";
        try
        {
            var run = await ExternalTool.RunAsync(promtool, [command, what, Path.Combine(Folder, file)]);
            return (run.ExitCode, run.ToString());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Assert.Fail("promtool was not found: ./test.sh extracts it into .build/tools from Debian's prometheus package (or set COFFER_PROMTOOL).");
            throw;
        }
    }
}
