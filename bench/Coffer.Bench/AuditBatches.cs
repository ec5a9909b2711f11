using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Coffer.Bench;

/// <summary>Reads Coffer's audit group-commit counters from /metrics (with dev.json's admin URL and
/// token), so an audited scenario can say how many records each commit carried and how long each
/// took: a closed loop of c clients cannot exceed c / (commit time + service time) with auditing on.</summary>
internal static partial class AuditBatches
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(10) };

    public readonly record struct Totals(double Batches, double Records, double Seconds);

    /// <summary>The counters now, or null when the server has none (the fake endpoint, an old build).</summary>
    public static async Task<Totals?> ReadAsync(string dataDir)
    {
        try
        {
            using var dev = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dataDir, "dev.json")));
            var admin = dev.RootElement.GetProperty("adminUrl").GetString()!.TrimEnd('/');
            using var request = new HttpRequestMessage(HttpMethod.Get, admin + "/metrics");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", dev.RootElement.GetProperty("adminToken").GetString());
            using var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return Value(text, "coffer_audit_batches_total") is { } b && Value(text, "coffer_audit_batched_records_total") is { } r
                && Value(text, "coffer_audit_commit_seconds_total") is { } s ? new Totals(b, r, s) : null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>"audit group commit: 41.2 records per commit, 1.07 ms per commit" for the span between two readings.</summary>
    public static string? Describe(Totals? before, Totals? after)
    {
        if (before is not { } b || after is not { } a || a.Batches <= b.Batches) return null;
        var batches = a.Batches - b.Batches;
        return string.Create(CultureInfo.InvariantCulture,
            $"audit group commit: {(a.Records - b.Records) / batches:0.0} records per commit, {(a.Seconds - b.Seconds) / batches * 1000:0.00} ms per commit");
    }

    private static double? Value(string text, string name)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(name) + " ([0-9.e+-]+)$", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }
}
