using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Coffer.Server.Hosting;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>
/// docs/cluster.md with real processes: the built <c>coffer server</c> run twice on one SQLite data
/// directory (a dev node initialises it first, then stops), killed with SIGKILL where a crash is meant.
/// </summary>
public sealed class ClusterProcessTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-cluster-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private DevInfo _info = null!;

    public async Task InitializeAsync()
    {
        await using var dev = await DevServer.StartAsync(dataDirectory: _directory);
        _info = dev.Info;
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _info.AdminToken);
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task Two_nodes_appear_in_status_and_XKS_health_and_a_killed_one_leaves_the_fleet_within_the_liveness_bound()
    {
        await using var a = await ServerProcess.StartAsync(_directory, "node-a", ServerProcess.ShortTimings);
        await using var b = await ServerProcess.StartAsync(_directory, "node-b", ServerProcess.ShortTimings);

        var nodes = await UntilAsync(b, n => Live(n).Count == 2, "both nodes live");
        Assert.Equal(["node-a", "node-b"], Live(nodes));
        Assert.Equal(["node-a"], nodes.Where(n => n.GetProperty("leader").GetBoolean()).Select(Id)); // the first to start leads
        Assert.All(LiveNodes(nodes), n => Assert.Equal("ACTIVE", n.GetProperty("health").GetString()));
        // Asked of node-b only: an XKS call is audited, and today's audit chain has one writer per
        // database (AuditLog), which node-b became when it started; node-a's next record is refused.
        var health = await HealthAsync(b);
        Assert.Equal(2, health.GetProperty("xksProxyFleetSize").GetInt32());
        Assert.Equal(["node-b", "node-a"], health.GetProperty("ekmFleetDetails").EnumerateArray().Select(Id)); // itself first
        Assert.All(health.GetProperty("ekmFleetDetails").EnumerateArray(), e => Assert.Equal("ACTIVE", e.GetProperty("healthStatus").GetString()));

        var status = await Cli.RunProcessAsync(new Dictionary<string, string> { ["COFFER_ADDR"] = b.AdminUrl.ToString(), ["COFFER_TOKEN"] = _info.AdminToken }, null, "status");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Matches(@"NODE\s+STATE\s+HEARTBEAT\s+SEALED\s+HEALTH\s+HSM\s+LEADER\s+VERSION\s+MANAGEMENT\s+XKS", status.Out);
        Assert.Matches(@"node-a\s+live\s+\d+\.\d s ago\s+no\s+ACTIVE\s+-\s+yes", status.Out);
        Assert.Matches(@"node-b\s+live\s+\d+\.\d s ago\s+no\s+ACTIVE\s+-\s+no", status.Out);
        Assert.Contains(b.AdminUrl.ToString().TrimEnd('/'), status.Out, StringComparison.Ordinal);

        var killed = Stopwatch.StartNew();
        await a.KillAsync();
        JsonElement fleet;
        do
        {
            await Task.Delay(50);
            fleet = await HealthAsync(b);
        }
        while (fleet.GetProperty("xksProxyFleetSize").GetInt32() != 1 && killed.Elapsed < TimeSpan.FromSeconds(20));

        // Liveness 1.5 s, read every heartbeat (0.2 s); the rest is slack for a loaded machine.
        Assert.Equal(1, fleet.GetProperty("xksProxyFleetSize").GetInt32());
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(4), $"the fleet shrank after {killed.Elapsed}");
        Assert.Equal(["node-b"], fleet.GetProperty("ekmFleetDetails").EnumerateArray().Select(Id));
        var after = await NodesAsync(b);
        Assert.Equal("gone", after.Single(n => Id(n) == "node-a").GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_killed_leader_is_replaced_within_15_seconds_and_the_new_leader_runs_the_rotation_that_came_due()
    {
        // Default timings: the bound documented in docs/cluster.md.
        await using var a = await ServerProcess.StartAsync(_directory, "node-a", cluster: null);
        await using var b = await ServerProcess.StartAsync(_directory, "node-b", cluster: null);
        await UntilAsync(b, n => Live(n).Count == 2 && Leader(n) == "node-a", "node-a leading a fleet of two");

        var killed = Stopwatch.StartNew();
        await a.KillAsync();

        // Due now, while nobody leads: the current version expires in a day, and the policy rotates two
        // days before an expiry. node-a is dead; only a new leader's scheduler can rotate it.
        using var keys = JsonDocument.Parse(await _http.GetStringAsync(new Uri(b.AdminUrl, "api/v1/keys")));
        var keyId = keys.RootElement.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("name").GetString() == _info.KeyId).GetProperty("id").GetString();
        var key = $"{b.AdminUrl}api/v1/keys/{keyId}";
        Ok(await _http.PutAsJsonAsync($"{key}/versions/1/dates", new { deactivatesAt = DateTimeOffset.UtcNow.AddDays(1) }));
        Ok(await _http.PutAsJsonAsync($"{key}/rotation-policy", new { intervalDays = 365, rotateBeforeExpiryDays = 2 }));

        await UntilAsync(b, n => Leader(n) == "node-b", "node-b to lead", TimeSpan.FromSeconds(20));
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(15), $"node-b led {killed.Elapsed} after node-a was killed");

        var rotations = await UntilRecordsAsync(b, "key.rotate.scheduled", _ => true);
        Assert.All(rotations, r => Assert.Equal("node-b", r.GetProperty("node").GetString()));
        await UntilRecordsAsync(b, "cluster.leader", r => r.GetProperty("node").GetString() == "node-b" && r.GetProperty("details").GetString() == "became the leader");
    }

    [Fact]
    public async Task A_second_process_with_a_live_node_id_refuses_to_start_and_a_crashed_nodes_id_is_free_once_it_is_silent()
    {
        await using var a = await ServerProcess.StartAsync(_directory, "node-a", ServerProcess.ShortTimings);
        var before = (await UntilAsync(a, n => Live(n).Count == 1, "node-a live")).Single(n => Id(n) == "node-a");

        var (exitCode, output) = await ServerProcess.RunUntilExitAsync(_directory, "node-a", ServerProcess.ShortTimings);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Another Coffer node with NodeId 'node-a' is running on this database", output, StringComparison.Ordinal);
        Assert.Contains("Give each node its own NodeId", output, StringComparison.Ordinal);
        var still = (await NodesAsync(a)).Single(n => Id(n) == "node-a");
        Assert.Equal("live", still.GetProperty("state").GetString());
        Assert.Equal(before.GetProperty("startedAt").GetDateTimeOffset(), still.GetProperty("startedAt").GetDateTimeOffset());
        Assert.True(still.GetProperty("leader").GetBoolean());

        // After a crash the same id starts again once its old heartbeat is older than the liveness bound.
        await a.KillAsync();
        await Task.Delay(1600);
        await using var restarted = await ServerProcess.StartAsync(_directory, "node-a", ServerProcess.ShortTimings);
        var node = (await UntilAsync(restarted, n => Leader(n) == "node-a", "the restarted node-a to lead")).Single(n => Id(n) == "node-a");
        Assert.Equal("live", node.GetProperty("state").GetString());
        Assert.True(node.GetProperty("startedAt").GetDateTimeOffset() > before.GetProperty("startedAt").GetDateTimeOffset());
    }

    private static string Id(JsonElement e) => e.GetProperty("id").GetString()!;

    private static List<string> Live(IEnumerable<JsonElement> nodes) => LiveNodes(nodes).Select(Id).ToList();

    private static IEnumerable<JsonElement> LiveNodes(IEnumerable<JsonElement> nodes) => nodes.Where(n => n.GetProperty("state").GetString() == "live");

    private static string? Leader(IEnumerable<JsonElement> nodes) => nodes.Where(n => n.GetProperty("leader").GetBoolean()).Select(Id).SingleOrDefault();

    private static void Ok(HttpResponseMessage response) =>
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {response.Content.ReadAsStringAsync().Result}");

    private async Task<List<JsonElement>> NodesAsync(ServerProcess node)
    {
        using var status = JsonDocument.Parse(await _http.GetStringAsync(new Uri(node.AdminUrl, "api/v1/sys/status")));
        return [.. status.RootElement.GetProperty("nodes").Clone().EnumerateArray()];
    }

    private async Task<List<JsonElement>> UntilAsync(ServerProcess node, Func<List<JsonElement>, bool> condition, string what, TimeSpan? patience = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var nodes = await NodesAsync(node);
            if (condition(nodes))
            {
                return nodes;
            }

            if (deadline.Elapsed > (patience ?? TimeSpan.FromSeconds(15)))
            {
                throw new TimeoutException($"Waited for {what}; status says {JsonSerializer.Serialize(nodes)}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The records of <paramref name="action"/>, once one of them matches <paramref name="wanted"/>.</summary>
    private async Task<List<JsonElement>> UntilRecordsAsync(ServerProcess node, string action, Func<JsonElement, bool> wanted)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var list = JsonDocument.Parse(await _http.GetStringAsync(new Uri(node.AdminUrl, $"api/v1/audit/records?action={action}")));
            var records = list.RootElement.GetProperty("records").Clone().EnumerateArray().ToList();
            if (records.Any(wanted))
            {
                return records;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(15), $"no such {action} record within 15 s: {JsonSerializer.Serialize(records)}");
            await Task.Delay(200);
        }
    }

    private async Task<JsonElement> HealthAsync(ServerProcess node)
    {
        var xks = new XksClient(new Uri(node.XksUrl, new Uri(_info.XksBaseUrl).AbsolutePath), _info.AccessKeyId, _info.SecretAccessKey);
        var health = await xks.HealthAsync();
        Assert.True(health.Status == 200, $"{health.Body}\n{node.Process.Output}");
        return health.Json;
    }
}
