using System.Net;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer server --config FILE</c> as a real process that a cluster test kills and
/// restarts (<see cref="CofferNode"/>).</summary>
public sealed class CofferNodeTests
{
    [Fact]
    public async Task A_node_killed_with_SIGKILL_starts_again_on_its_data_and_ports_and_serves()
    {
        var (directory, info) = await CofferNode.CreateDevDataDirectoryAsync();
        try
        {
            await using var node = await CofferNode.StartAsync("node-a", directory, c => c["Seal"] = "dev");
            Assert.Equal(HttpStatusCode.OK, await node.TryPingAsync());
            var client = ClientOf(node, info);
            var sealedData = await client.MustEncryptAsync(info.KeyId, "kept across a crash"u8.ToArray());

            node.Kill();
            Assert.Null(await node.TryPingAsync());

            await node.StartAsync();
            Assert.Equal(HttpStatusCode.OK, await node.TryPingAsync());
            var decrypted = await ClientOf(node, info).DecryptAsync(info.KeyId, sealedData);
            Assert.Equal(200, decrypted.Status);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_node_stopped_with_SIGTERM_exits_0()
    {
        var (directory, _) = await CofferNode.CreateDevDataDirectoryAsync();
        try
        {
            await using var node = await CofferNode.StartAsync("node-b", directory, c => c["Seal"] = "dev");

            var exitCode = await node.StopAsync();
            Assert.True(exitCode == 0, $"exit {exitCode}: {node.Output}");
            Assert.Contains("unsealed", node.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // The operator stops a node that is still starting: what it opened closes and it exits 0, without a
    // stack trace. Its first line (the dev seal's warning) comes before the seal unseals and the
    // listeners open; the delays land the signal in later steps of the start.
    [Theory]
    [InlineData(0)]
    [InlineData(150)]
    [InlineData(400)]
    public async Task A_node_stopped_with_SIGTERM_while_starting_exits_0_and_starts_again(int delayMilliseconds)
    {
        var (directory, _) = await CofferNode.CreateDevDataDirectoryAsync();
        try
        {
            await using var node = CofferNode.Create("node-c", directory, c => c["Seal"] = "dev");
            await node.LaunchAsync();
            var deadline = DateTime.UtcNow + CofferNode.StartPatience;
            while (node.Output.Length == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            Assert.Contains("DEV SEAL", node.Output, StringComparison.Ordinal);
            await Task.Delay(delayMilliseconds);

            var exitCode = await node.StopAsync();
            Assert.True(exitCode == 0, $"exit {exitCode}: {node.Output}");
            Assert.DoesNotContain("Unhandled exception", node.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Hosting failed to start", node.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", node.Output, StringComparison.Ordinal);

            // Nothing was left half open: the same node starts again on its data and serves.
            await node.StartAsync();
            Assert.Equal(HttpStatusCode.OK, await node.TryPingAsync());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // The demo key store's credentials, on the node's current XKS port.
    private static XksClient ClientOf(CofferNode node, Coffer.Server.Hosting.DevInfo info) =>
        new(new Uri(node.XksUrl, new Uri(info.XksBaseUrl).AbsolutePath), info.AccessKeyId, info.SecretAccessKey);
}
