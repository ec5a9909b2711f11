using System.Net;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;
using Xunit.Abstractions;

namespace Coffer.Server.Tests.Cluster;

/// <summary>The kill switch that cuts off everything (<c>scope = all</c>, docs/access-rules.md, "Kill switch") holds for the
/// whole cluster: engaged through one node, the other refuses every key call within a second; released
/// through that other node, the first serves again as fast (docs/cluster.md, "Changes between nodes").</summary>
public sealed class ClusterKillSwitchTests(ITestOutputHelper output)
{
    private const int Rounds = 5;

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task The_all_switch_engaged_on_one_node_blocks_every_key_call_on_the_other_and_a_release_there_restores_the_first()
    {
        await using var cluster = await PostgresPair.StartAsync(_postgres);
        var keyName = cluster.A.Info.KeyId;
        var xksA = XksClient.For(cluster.A);
        var xksB = XksClient.For(cluster.B);
        var sealedData = await xksA.MustEncryptAsync(keyName, [1, 2, 3]);
        var blocked = new List<double>();
        var restored = new List<double>();

        for (var round = 0; round < Rounds; round++)
        {
            using var engage = await cluster.A.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "cluster drill" });
            var switchId = (string)(await engage.JsonAsync(HttpStatusCode.Created))["id"]!;
            blocked.Add(await Propagation.MillisecondsUntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 400));
            foreach (var call in new[] { xksB.EncryptAsync(keyName, [1]), xksB.DecryptAsync(keyName, sealedData), xksB.GetKeyMetadataAsync(keyName) })
            {
                var refused = await call;
                XksAssert.Error(refused, 400, "InvalidStateException");
                Assert.Contains(switchId, refused.ErrorMessage, StringComparison.Ordinal);
            }

            XksAssert.Ok(await xksB.HealthAsync()); // health stays up

            using var release = await cluster.B.Admin.PostAsync($"/api/v1/kill-switches/{switchId}/release", null);
            await release.JsonAsync(HttpStatusCode.OK);
            restored.Add(await Propagation.MillisecondsUntilAsync(async () => (await xksA.EncryptAsync(keyName, [1])).Status == 200));
            XksAssert.Ok(await xksA.DecryptAsync(keyName, sealedData));
            XksAssert.Ok(await xksA.GetKeyMetadataAsync(keyName));
        }

        output.WriteLine($"engaged on A -> every key call refused on B after {string.Join(", ", blocked.Select(ms => $"{ms:0.0}"))} ms; max {blocked.Max():0.0} ms ({Rounds} rounds)");
        output.WriteLine($"released on B -> A serves again after {string.Join(", ", restored.Select(ms => $"{ms:0.0}"))} ms; max {restored.Max():0.0} ms");
        Assert.True(blocked.Max() < 1000, $"B refused only {blocked.Max():0} ms after the switch was engaged on A");
        Assert.True(restored.Max() < 1000, $"A served again only {restored.Max():0} ms after the switch was released on B");
    }
}
