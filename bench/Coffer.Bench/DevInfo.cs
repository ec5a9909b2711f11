using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Coffer.Bench;

/// <summary>Talks to a freshly started server before the timed runs: reads `coffer dev`'s dev.json,
/// waits for a signed health check, and builds the decrypt pool from real encrypt responses.</summary>
public static class DevInfo
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, UseCookies = false })
    { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<XksTarget> WaitAsync(string dataDir, Process server, string log)
    {
        var file = Path.Combine(dataDir, "dev.json");
        var deadline = Stopwatch.StartNew();
        XksTarget? target = null;
        while (target is null)
        {
            if (server.HasExited) throw new BenchException($"server exited ({server.ExitCode}) before writing dev.json:\n{ChildProcesses.Tail(log)}");
            if (deadline.Elapsed > TimeSpan.FromMinutes(3)) throw new BenchException($"no {file} after 3 minutes:\n{ChildProcesses.Tail(log)}");
            if (File.Exists(file))
            {
                try { target = Parse(await File.ReadAllTextAsync(file)); }
                catch (JsonException) { } // still being written
                catch (KeyNotFoundException) { }
            }
            if (target is null) await Task.Delay(200);
        }

        await WaitHealthyAsync(target, server, log, TimeSpan.FromMinutes(4) - deadline.Elapsed);
        return target;
    }

    /// <summary>Waits until a signed health check to <paramref name="target"/> answers 200.</summary>
    public static async Task WaitHealthyAsync(XksTarget target, Process server, string log, TimeSpan patience)
    {
        var deadline = Stopwatch.StartNew();
        string? last = null;
        while (deadline.Elapsed < patience)
        {
            if (server.HasExited) throw new BenchException($"server exited ({server.ExitCode}):\n{ChildProcesses.Tail(log)}");
            try
            {
                var (status, body) = await SendAsync(XksRequests.Sign(target, target.PathOf("health"), XksRequests.HealthBody(), DateTime.UtcNow));
                if (status == 200) return;
                last = $"HTTP {status}: {body}";
            }
            catch (HttpRequestException e) { last = e.Message; }
            await Task.Delay(250);
        }
        throw new BenchException($"health never answered 200 (last: {last}):\n{ChildProcesses.Tail(log)}");
    }

    public static async Task WaitForCeilingAsync(XksTarget ceiling, Process process, string log)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(1))
        {
            if (process.HasExited) throw new BenchException($"ceiling exited:\n{ChildProcesses.Tail(log)}");
            try
            {
                var (status, _) = await SendAsync(XksRequests.Sign(ceiling, ceiling.PathOf("health"), XksRequests.HealthBody(), DateTime.UtcNow));
                if (status == 200) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        throw new BenchException($"ceiling did not come up:\n{ChildProcesses.Tail(log)}");
    }

    /// <summary>Encrypts every body once (untimed), turns each response into a decrypt request and
    /// checks that one round trip gives the plaintext back.</summary>
    public static async Task<List<byte[]>> MakeDecryptBodiesAsync(XksTarget t, string encPath, string decPath, List<byte[]> encBodies)
    {
        var signed = XksRequests.SignPool(t, encPath, encBodies);
        var result = new byte[encBodies.Count][];
        await Parallel.ForAsync(0, signed.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var (status, body) = await SendAsync(signed[i]);
            if (status != 200) throw new BenchException($"encrypt for the decrypt pool failed: HTTP {status}: {body}");
            result[i] = XksRequests.DecryptBody(encBodies[i], System.Text.Encoding.UTF8.GetBytes(body));
        });

        var (s, plain) = await SendAsync(XksRequests.Sign(t, decPath, result[0], DateTime.UtcNow));
        using var sent = JsonDocument.Parse(encBodies[0]);
        using var got = s == 200 ? JsonDocument.Parse(plain) : null;
        if (got?.RootElement.GetProperty("plaintext").GetString() != sent.RootElement.GetProperty("plaintext").GetString())
            throw new BenchException($"decrypt round trip failed: HTTP {s}: {plain}");
        return [.. result];
    }

    private static XksTarget Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var r = doc.RootElement;
        string S(string name) => r.TryGetProperty(name, out var v) && v.GetString() is { Length: > 0 } s
            ? s : throw new KeyNotFoundException(name);
        var url = new UriBuilder(S("xksBaseUrl"));
        if (url.Host == "localhost") url.Host = "127.0.0.1";
        // Load goes to this machine only.
        if (!IPAddress.TryParse(url.Host, out var ip) || !IPAddress.IsLoopback(ip) || url.Scheme != "http")
            throw new BenchException($"refusing non-loopback or non-http target {url}");
        return new XksTarget(url.Uri, S("accessKeyId"), S("secretAccessKey"), S("keyId"));
    }

    private static async Task<(int Status, string Body)> SendAsync(PreparedRequest r)
    {
        using var msg = new HttpRequestMessage(HttpMethod.Post, r.Uri) { Content = new ByteArrayContent(r.Body) };
        msg.Content.Headers.ContentType = new("application/json");
        foreach (var (k, v) in r.Headers) msg.Headers.TryAddWithoutValidation(k, v);
        using var resp = await Http.SendAsync(msg);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }
}
