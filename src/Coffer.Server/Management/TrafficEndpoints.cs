using Coffer.Auth;
using Coffer.Server.Hosting;
using Coffer.Server.Metrics;
using Coffer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.Management;

/// <summary>/api/v1/traffic: XKS calls per minute by outcome and answer, summed over every node (docs/console.md, "Traffic").</summary>
internal static class TrafficEndpoints
{
    private const int MaxMinutes = 1440;

    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/traffic", ListAsync).WithTags("System").RequirePermission(Permissions.MetricsRead)
            .WithSummary("XKS calls per minute by outcome (ok, denied, error) and answer (success or the XKS error name) over the last minutes (default 60, at most 1440), summed over every node");

    private static async Task<Results<Ok<TrafficView>, ProblemHttpResult>> ListAsync(
        int? minutes, ICofferStorage storage, CofferMetrics metrics, CofferOptions options, TimeProvider time, CancellationToken ct)
    {
        if (minutes is < 1 or > MaxMinutes)
        {
            return Problems.BadRequest($"minutes is 1 to {MaxMinutes} (default 60).");
        }

        // This node's calls since its last minute's write are written first, so its own latest calls show.
        var now = time.GetUtcNow();
        await metrics.Calls.Traffic.WriteAsync(storage.Traffic, options.NodeId, now, ct);
        var from = XksTraffic.MinuteOf(now) - (minutes ?? 60) + 1;
        var counts = await storage.Traffic.ListAsync(from, ct);
        return TypedResults.Ok(new TrafficView(
            DateTimeOffset.FromUnixTimeSeconds(from * 60),
            [.. counts.Select(c => new TrafficCountView(DateTimeOffset.FromUnixTimeSeconds(c.Minute * 60), c.Outcome, c.Answer, c.Calls))]));
    }
}
