using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>`coffer dev --cluster 2` as a process: two nodes on one real PostgreSQL.</summary>
public sealed class DevClusterProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-dev-cluster-").FullName;

    public DevClusterProcessTests()
    {
        // As root PostgreSQL runs as the 'postgres' user, which must pass through this directory.
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(_directory, File.GetUnixFileMode(_directory) | UnixFileMode.OtherExecute);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Two_nodes_start_unsealed_on_one_database_a_restart_reuses_it_and_ctrl_c_stops_postgres_too()
    {
        DevInfo first;
        await using (var dev = await DevProcess.StartInAsync(_directory, "--cluster", "2"))
        {
            first = dev.Info;
            var nodes = dev.Info.Nodes ?? throw new Xunit.Sdk.XunitException("dev.json lists no nodes");
            Assert.Equal(2, nodes.Count);
            Assert.Equal(2, nodes.Select(n => n.XksBaseUrl).Distinct().Count());
            Assert.Equal(2, nodes.Select(n => n.AdminUrl).Distinct().Count());
            Assert.Equal(2, nodes.Select(n => n.NodeId).Distinct().Count());
            Assert.Equal(dev.Info.XksBaseUrl, nodes[0].XksBaseUrl);
            Assert.Equal(dev.Info.AdminUrl, nodes[0].AdminUrl);
            // The banner follows dev.json.
            await Wait.UntilAsync(() => dev.Output.Contains(nodes[1].XksBaseUrl, StringComparison.Ordinal), "the banner to list node 2's XKS base URL");
            // Both are unsealed by the dev seal: the load balancer's check passes on each.
            foreach (var node in nodes)
            {
                Assert.Equal(HttpStatusCode.OK, await PingAsync(node));
            }

            await StopAndCheckPostgresGoneAsync(dev);
        }

        // The restart reads the credentials from dev.json and rewrites it: its node list is taken out
        // first, so its return says the new nodes are up.
        var infoPath = Path.Combine(_directory, "data", DevEnvironment.FileName);
        var stale = JsonNode.Parse(await File.ReadAllTextAsync(infoPath))!.AsObject();
        Assert.True(stale.Remove("nodes"));
        await File.WriteAllTextAsync(infoPath, stale.ToJsonString());
        await using var again = await DevProcess.StartInAsync(_directory, "--cluster", "2");
        DevInfo? restarted = null;
        await Wait.UntilAsync(async () => (restarted = await DevEnvironment.ReadAsyncOrNull(infoPath))?.Nodes is not null, "the restarted cluster to list its nodes in dev.json",
            CofferNode.StartPatience);
        Assert.Equal(first.AccessKeyId, restarted!.AccessKeyId);
        Assert.Equal(first.KeyId, restarted.KeyId);
        Assert.Equal(2, restarted.Nodes!.Count);
        var keys = await Cli.RunAsync(Cli.Environment(restarted.Nodes[1].AdminUrl, restarted.AdminToken), "key", "list", "--json");
        Assert.True(keys.ExitCode == 0, keys.ToString());
        Assert.Contains(first.KeyId, keys.Out, StringComparison.Ordinal);
        await StopAndCheckPostgresGoneAsync(again);
    }

    [Fact]
    public async Task Both_nodes_answer_the_printed_curl_and_a_key_made_on_node_1_serves_xks_on_node_2()
    {
        await using var dev = await DevProcess.StartInAsync(_directory, "--cluster", "2");
        var nodes = dev.Info.Nodes!;

        // The printed curl, pasted as is, and the same signed call to node 2.
        var curl = dev.Output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("curl ", StringComparison.Ordinal));
        Assert.Contains("\"ciphertext\"", await ShellAsync(curl), StringComparison.Ordinal);
        Assert.Contains("\"ciphertext\"", await ShellAsync(curl.Replace(nodes[0].XksBaseUrl, nodes[1].XksBaseUrl, StringComparison.Ordinal)), StringComparison.Ordinal);

        // A key made through node 1's management API serves XKS on node 2 after node 2's full
        // reload (1 s in a dev cluster), here allowed 3 s.
        var created = await Cli.RunAsync(Cli.Environment(nodes[0].AdminUrl, dev.Info.AdminToken), "key", "create", "demo", "--name", "cluster-key");
        Assert.True(created.ExitCode == 0, created.ToString());
        var node2 = new XksClient(new Uri(nodes[1].XksBaseUrl), dev.Info.AccessKeyId, dev.Info.SecretAccessKey);
        var clock = Stopwatch.StartNew();
        while ((await node2.EncryptAsync("cluster-key", "a data key"u8.ToArray())).Status != 200)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), "node 2 did not know node 1's new key within 3 s");
            await Task.Delay(50);
        }
    }

    private static async Task StopAndCheckPostgresGoneAsync(DevProcess dev)
    {
        var postmaster = PostmasterPid(dev.DataDirectory);
        Assert.True(IsAlive(postmaster), "PostgreSQL runs while the cluster does");
        await dev.InterruptAsync();
        await Wait.UntilAsync(() => !IsAlive(postmaster), "PostgreSQL to stop after Ctrl+C");
    }

    private static async Task<HttpStatusCode> PingAsync(DevNode node)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri(new Uri(node.XksBaseUrl).GetLeftPart(UriPartial.Authority) + "/ping"));
        return response.StatusCode;
    }

    private static int PostmasterPid(string dataDirectory) =>
        int.Parse(File.ReadLines(Path.Combine(dataDirectory, DevCluster.PostgresDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    // A zombie counts as gone: it has exited.
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static async Task<string> ShellAsync(string command)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output + await process.StandardError.ReadToEndAsync();
    }
}
