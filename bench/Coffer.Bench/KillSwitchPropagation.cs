using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Coffer.Bench;

/// <summary>
/// How long a kill switch engaged through one node takes to stop the key on another (docs/cluster.md,
/// "Changes between nodes and staleness"). Each sample engages a key-scoped kill switch through node A's
/// management API, then sends signed XKS encrypts to node B back to back on one connection until B
/// refuses with InvalidStateException; then releases it and polls B until it serves again. Times run
/// from the moment A answered the management call, when the operator sees it done. Every sample and
/// every wait is bounded.
/// </summary>
public static class KillSwitchPropagation
{
    private static readonly TimeSpan PerWait = TimeSpan.FromSeconds(10);
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false })
    { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Milliseconds per sample: engage seen on B, release seen on B, and A's answer time to the engage call.</summary>
    public sealed record Result(List<double> EngageMs, List<double> ReleaseMs, List<double> CallMs, int Polls)
    {
        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"kill switch engaged on node A, refused on node B after: p50 {Percentile(EngageMs, 0.5):0.0} ms, p99 {Percentile(EngageMs, 0.99):0.0} ms, max {EngageMs.Max():0.0} ms " +
            $"({EngageMs.Count} samples; A answered the engage call in p50 {Percentile(CallMs, 0.5):0.0} ms); released, served again on B after p50 {Percentile(ReleaseMs, 0.5):0.0} ms, " +
            $"p99 {Percentile(ReleaseMs, 0.99):0.0} ms; {Polls:#,0} encrypts sent to B while waiting");
    }

    public static async Task<Result> MeasureAsync(Uri adminA, string token, XksTarget nodeB, string encPath, List<byte[]> bodies, int samples, TimeSpan budget)
    {
        var total = Stopwatch.StartNew();
        var result = new Result([], [], [], 0);
        var polls = 0;
        using var connection = new RawConnection();
        var keyId = await KeyIdAsync(adminA, token, nodeB.KeyId);
        for (var n = 1; n <= samples && total.Elapsed < budget; n++)
        {
            // Fresh signatures per sample: the whole row may outlast the 5-minute skew window.
            var signed = XksRequests.SignPool(nodeB, encPath, bodies);
            var sent = Stopwatch.GetTimestamp();
            var id = await EngageAsync(adminA, token, keyId, n);
            var answered = Stopwatch.GetTimestamp();
            var (refusedAt, engagePolls) = await PollAsync(connection, signed, serving: false);
            await ReleaseAsync(adminA, token, id);
            var released = Stopwatch.GetTimestamp();
            var (servedAt, releasePolls) = await PollAsync(connection, signed, serving: true);
            polls += engagePolls + releasePolls;
            result.CallMs.Add(Stopwatch.GetElapsedTime(sent, answered).TotalMilliseconds);
            result.EngageMs.Add(Stopwatch.GetElapsedTime(answered, refusedAt).TotalMilliseconds);
            result.ReleaseMs.Add(Stopwatch.GetElapsedTime(released, servedAt).TotalMilliseconds);
        }
        return result with { Polls = polls };
    }

    /// <summary>Encrypts on B until it refuses with the kill switch's error (or, with
    /// <paramref name="serving"/>, until it answers 200 again); returns when that answer arrived.</summary>
    private static async Task<(long At, int Polls)> PollAsync(RawConnection connection, PreparedRequest[] signed, bool serving)
    {
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; ; i++)
        {
            var status = await connection.SendAsync(signed[i % signed.Length], CancellationToken.None);
            var at = Stopwatch.GetTimestamp();
            if (serving ? status == 200 : status != 200)
            {
                if (!serving && !(connection.LastErrorBody ?? "").Contains("InvalidStateException", StringComparison.Ordinal))
                    throw new BenchException($"node B refused with something other than the kill switch's error: HTTP {status}: {connection.LastErrorBody}");
                return (at, i + 1);
            }
            if (Stopwatch.GetElapsedTime(started, at) > PerWait)
                throw new BenchException($"node B still {(serving ? "refused" : "served")} the key {PerWait.TotalSeconds:0} s after the change on node A (last HTTP {status}: {connection.LastErrorBody})");
        }
    }

    /// <summary>The key's id: XKS calls name the demo key by its name, a kill switch by its id.</summary>
    private static async Task<string> KeyIdAsync(Uri admin, string token, string name)
    {
        using var json = await SendAsync(HttpMethod.Get, admin, token, $"api/v1/keys?q={Uri.EscapeDataString(name)}", null);
        return json.RootElement.GetProperty("keys").EnumerateArray()
            .Where(k => k.GetProperty("name").GetString() == name || k.GetProperty("id").GetString() == name)
            .Select(k => k.GetProperty("id").GetString()).FirstOrDefault() ?? throw new BenchException($"no key named {name}");
    }

    private static async Task<string> EngageAsync(Uri admin, string token, string keyId, int sample)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, string> { ["scope"] = "key", ["value"] = keyId, ["reason"] = $"bench: propagation sample {sample}" });
        using var json = await SendAsync(HttpMethod.Post, admin, token, "api/v1/kill-switches", body);
        return json.RootElement.GetProperty("id").GetString() ?? throw new BenchException("the engaged kill switch has no id");
    }

    private static async Task ReleaseAsync(Uri admin, string token, string id)
    {
        using var _ = await SendAsync(HttpMethod.Post, admin, token, $"api/v1/kill-switches/{Uri.EscapeDataString(id)}/release", null);
    }

    private static async Task<JsonDocument> SendAsync(HttpMethod method, Uri admin, string token, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, new Uri(admin, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new BenchException($"{method} {path}: HTTP {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text);
    }

    public static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
