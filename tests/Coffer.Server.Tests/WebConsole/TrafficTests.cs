using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.WebConsole;

/// <summary>
/// GET /api/v1/traffic (docs/console.md, "Traffic"): the XKS calls a node answered, signed by an
/// independent signer, counted by minute, outcome and answer, kept across a restart.
/// </summary>
public sealed class TrafficTests
{
    [Fact]
    public async Task Answered_calls_are_counted_by_outcome_and_answer_and_kept_across_a_restart()
    {
        var directory = Path.Combine(Path.GetTempPath(), "coffer-traffic-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var node = await DevServer.StartAsync(dataDirectory: directory))
            {
                var xks = XksClient.For(node);
                for (var i = 0; i < 3; i++)
                {
                    XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, RandomNumberGenerator.GetBytes(32)));
                }

                using var engage = await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "traffic test" });
                await engage.JsonAsync(HttpStatusCode.Created);
                XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, RandomNumberGenerator.GetBytes(32)), 400, "InvalidStateException");
                XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, RandomNumberGenerator.GetBytes(32)), 400, "InvalidStateException");

                var counts = Sum(await node.Admin.GetJsonAsync("/api/v1/traffic?minutes=5"));
                Assert.Equal(3, counts.GetValueOrDefault(("ok", "success")));
                Assert.Equal(2, counts.GetValueOrDefault(("denied", "InvalidStateException")));
            }

            await using (var restarted = await DevServer.StartAsync(dataDirectory: directory))
            {
                var counts = Sum(await restarted.Admin.GetJsonAsync("/api/v1/traffic?minutes=5"));
                Assert.Equal(3, counts.GetValueOrDefault(("ok", "success")));
                Assert.Equal(2, counts.GetValueOrDefault(("denied", "InvalidStateException")));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1441")]
    public async Task A_window_out_of_bounds_is_a_400(string minutes)
    {
        await using var node = await DevServer.StartAsync();
        using var response = await node.Admin.GetAsync($"/api/v1/traffic?minutes={minutes}");
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("1 to 1440", (string?)problem["detail"], StringComparison.Ordinal);
    }

    private static Dictionary<(string, string), long> Sum(JsonNode traffic) =>
        traffic["counts"]!.AsArray().GroupBy(c => ((string)c!["outcome"]!, (string)c["answer"]!)).ToDictionary(g => g.Key, g => g.Sum(c => (long)c!["calls"]!));
}
