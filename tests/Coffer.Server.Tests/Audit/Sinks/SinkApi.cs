using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;

namespace Coffer.Server.Tests.Audit.Sinks;

/// <summary>GET /api/v1/audit/sinks as a client reads it, and waits on it.</summary>
internal static class SinkApi
{
    public static async Task<JsonNode> SinkAsync(this HttpClient admin, string name)
    {
        using var response = await admin.GetAsync("/api/v1/audit/sinks");
        var body = await response.JsonAsync(HttpStatusCode.OK);
        return body["sinks"]!.AsArray().Single(s => (string?)s!["name"] == name)!;
    }

    /// <summary>Polls the sink's status until <paramref name="condition"/> holds: the forwarder runs
    /// on its own schedule, so its progress can only be observed, not awaited.</summary>
    public static async Task<JsonNode> WaitForSinkAsync(this HttpClient admin, string name, Func<JsonNode, bool> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var sink = await admin.SinkAsync(name);
            if (condition(sink))
            {
                return sink;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Sink {name} never reached the expected state: {sink.ToJsonString()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until the sink confirmed every record written so far; returns that head.</summary>
    public static async Task<long> WaitCaughtUpAsync(this HttpClient admin, string name)
    {
        var sink = await admin.WaitForSinkAsync(name, s => (long)s["backlog"]! == 0 && (long)s["cursor"]! > 0);
        return (long)sink["cursor"]!;
    }

    /// <summary>The export's JSON lines by sequence, to compare what the sinks wrote with.</summary>
    public static async Task<Dictionary<long, string>> ExportAsync(this HttpClient admin)
    {
        var text = await admin.GetStringAsync("/api/v1/audit/export?format=jsonl");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => (long)JsonNode.Parse(l)!["sequence"]!);
    }
}
