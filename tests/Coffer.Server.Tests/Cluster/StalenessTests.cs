using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Storage.Postgres;
using Coffer.Testing;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace Coffer.Server.Tests.Cluster;

/// <summary>
/// Two real Coffer nodes on one real PostgreSQL database (docs/cluster.md, "Changes between nodes and
/// staleness"): a change made through node A's management API is in force on node B within a second,
/// and a node that cannot confirm it has the cluster's changes refuses key operations until it has,
/// recovering by itself.
/// </summary>
public sealed class StalenessTests(ITestOutputHelper output)
{
    private const int StalenessSeconds = 2;

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task A_kill_switch_engaged_on_one_node_blocks_the_other_within_a_second()
    {
        await using var cluster = await TwoNodes.StartAsync(await _postgres.CreateDatabaseAsync());
        var (keyId, keyName) = await cluster.CreateKeyAsync();
        var xksB = XksClient.For(cluster.B);
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200, "node B to serve the new key");
        var engagedAfter = new List<double>();
        var releasedAfter = new List<double>();

        for (var round = 0; round < 20; round++)
        {
            using var engage = await cluster.AdminA.PostJsonAsync("/api/v1/kill-switches", new { scope = "key", value = keyId, reason = "drill" });
            var switchId = (string)(await engage.JsonAsync(HttpStatusCode.Created))["id"]!;
            engagedAfter.Add(await MillisecondsUntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 400));

            using var release = await cluster.AdminA.PostAsync($"/api/v1/kill-switches/{switchId}/release", null);
            await release.JsonAsync(HttpStatusCode.OK);
            releasedAfter.Add(await MillisecondsUntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200));
        }

        output.WriteLine($"engage on A -> refused on B: p50 {Percentile(engagedAfter, 50):0.0} ms, p99 {Percentile(engagedAfter, 99):0.0} ms (20 rounds)");
        output.WriteLine($"release on A -> served on B: p50 {Percentile(releasedAfter, 50):0.0} ms, p99 {Percentile(releasedAfter, 99):0.0} ms");
        Assert.True(Percentile(engagedAfter, 99) < 1000, "p99 of the kill switch's delay to the other node is under a second");
    }

    [Fact]
    public async Task A_key_disabled_and_a_credential_revoked_on_one_node_are_refused_by_the_other()
    {
        await using var cluster = await TwoNodes.StartAsync(await _postgres.CreateDatabaseAsync());
        var (keyId, keyName) = await cluster.CreateKeyAsync();
        var credential = await cluster.AdminA.AddCredentialAsync(cluster.StoreId);
        var xksB = XksClient.For(cluster.B) with
        {
            AccessKeyId = (string)credential["accessKeyId"]!,
            SecretAccessKey = (string)credential["secretAccessKey"]!,
        };
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200, "node B to serve the new key with the new credential");

        using (var disable = await cluster.AdminA.PostAsync($"/api/v1/keys/{keyId}/disable", null))
        {
            Assert.True(disable.IsSuccessStatusCode);
        }

        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 400, "node B to refuse the disabled key");
        XksAssert.Error(await xksB.EncryptAsync(keyName, [1]), 400, "InvalidStateException");

        using (var revoke = await cluster.AdminA.DeleteAsync($"/api/v1/keystores/{cluster.StoreId}/credentials/{(string)credential["id"]!}"))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }

        await Wait.UntilAsync(async () => (await xksB.HealthAsync()).Status == 401, "node B to refuse the revoked credential");
        XksAssert.Error(await xksB.HealthAsync(), 401, "AuthenticationFailedException");
    }

    [Fact]
    public async Task With_PostgreSQL_stopped_nodes_fail_closed_and_recover_by_themselves_when_it_returns()
    {
        await using var server = new LocalPostgres(Path.Combine(Path.GetTempPath(), "coffer-pg-stop-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))));
        await server.StartAsync();
        await using var cluster = await TwoNodes.StartAsync(server.ConnectionString);
        var xksB = XksClient.For(cluster.B);
        XksAssert.Ok(await xksB.EncryptAsync(cluster.B.Info.KeyId, [1]));
        using var load = new CancellationTokenSource();
        var answered = new List<string>();
        var loadTask = LoadAsync(xksB, cluster.B.Info.KeyId, answered, load.Token);

        await Task.Delay(500);
        server.Kill();
        var cut = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await PingAsync(cluster.B.XksUrl)) == HttpStatusCode.ServiceUnavailable, "node B's /ping to answer 503");
        var refused = await xksB.EncryptAsync(cluster.B.Info.KeyId, [1]);
        var refusedAfter = cut.Elapsed;
        var health = await xksB.HealthAsync();

        // Refused: 503 from the freshness gate, or 500 where even the refusal could not be audited.
        Assert.True(refused.Status is 503 or 500, refused.Body);
        Assert.True(refusedAfter < TimeSpan.FromSeconds(StalenessSeconds + 2), $"refused {refusedAfter.TotalSeconds:0.0} s after the cut");
        Assert.NotEqual(200, health.Status);

        await server.StartAsync();
        await Wait.UntilAsync(async () => (await PingAsync(cluster.B.XksUrl)) == HttpStatusCode.OK, "node B's /ping to answer 200 again");
        var last = refused;
        await Wait.UntilAsync(async () => (last = await xksB.EncryptAsync(cluster.B.Info.KeyId, [1])).Status == 200, "node B to serve again")
            .ContinueWith(t => t.IsFaulted ? throw new TimeoutException($"Node B still answers {last.Status} {last.Body}") : t, TaskScheduler.Default).Unwrap();
        await Task.Delay(500);
        await load.CancelAsync();
        await loadTask;

        // An answered call is never without its audit record (docs/design.md, "Audit").
        Assert.NotEmpty(answered);
        var audited = await cluster.AuditedRequestIdsAsync();
        Assert.All(answered, id => Assert.Contains(id, audited));
        output.WriteLine($"B refused key calls {refusedAfter.TotalMilliseconds:0} ms after PostgreSQL was killed; {answered.Count} calls answered under load");
    }

    [Fact]
    public async Task A_node_whose_change_listener_is_cut_off_refuses_key_calls_and_catches_up_by_itself()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var cluster = await TwoNodes.StartAsync(database);
        var (keyId, keyName) = await cluster.CreateKeyAsync();
        var xksB = XksClient.For(cluster.B);
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200, "node B to serve the new key");

        // The change sessions (and only they) are cut off again and again: storage and audit still work.
        using var cutting = new CancellationTokenSource();
        var cutter = CutChangeSessionsAsync(database, cutting.Token);
        var cut = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status != 200, "node B to refuse key calls");
        var refusedAfter = cut.Elapsed;
        var refused = await xksB.EncryptAsync(keyName, [1]);
        var health = await xksB.HealthAsync();
        var ping = await PingAsync(cluster.B.XksUrl);
        using (var engage = await cluster.AdminA.PostJsonAsync("/api/v1/kill-switches", new { scope = "key", value = keyId, reason = "while B was cut off" }))
        {
            await engage.JsonAsync(HttpStatusCode.Created);
        }

        await cutting.CancelAsync();
        await cutter;
        await Wait.UntilAsync(async () => await PingAsync(cluster.B.XksUrl) == HttpStatusCode.OK, "node B to be current again");
        var afterwards = await xksB.EncryptAsync(keyName, [1]);

        XksAssert.Error(refused, 503, "DependencyTimeoutException");
        Assert.Equal("Coffer cannot confirm it has the cluster's latest changes; retry shortly.", refused.ErrorMessage);
        Assert.True(refusedAfter < TimeSpan.FromSeconds(StalenessSeconds + 1), $"refused {refusedAfter.TotalSeconds:0.0} s after the cut");
        XksAssert.Ok(health);
        Assert.Equal("UNAVAILABLE", health.Json.GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ping);
        // The switch engaged on A while B was cut off is in force on B once it is back.
        XksAssert.Error(afterwards, 400, "InvalidStateException");
        output.WriteLine($"B refused key calls {refusedAfter.TotalMilliseconds:0} ms after its change sessions were cut (bound {StalenessSeconds} s)");
    }

    private static async Task CutChangeSessionsAsync(string database, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(CancellationToken.None);
        while (!ct.IsCancellationRequested)
        {
            await using var terminate = new NpgsqlCommand(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'coffer-changes'", connection);
            await terminate.ExecuteScalarAsync(CancellationToken.None);
            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>A small bounded load: one call at a time, the ids of those answered 200 kept.</summary>
    private static async Task LoadAsync(XksClient xks, string keyId, List<string> answered, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var id = XksRequests.NewRequestId();
            var response = await xks.EncryptAsync(keyId, [2], kmsRequestId: id);
            if (response.Status == 200)
            {
                answered.Add(id);
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }

    private static async Task<HttpStatusCode> PingAsync(Uri xks)
    {
        var response = await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(xks, "/ping"));
        return (HttpStatusCode)response.Status;
    }

    private static async Task<double> MillisecondsUntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "the change reached the other node within 5 s");
        }

        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }

    /// <summary>
    /// Nodes A and B on one database: B starts from A's dev seal key and demo credentials. A runs
    /// unaudited: the audit chain has one writer per database for now (docs/storage.md, "Writers on
    /// several nodes": a second writer's append is refused), so only B, the node under test, audits.
    /// </summary>
    private sealed class TwoNodes : IAsyncDisposable
    {
        private readonly string _aDirectory;
        private readonly string _bDirectory;
        private readonly ILoggerFactory _aLoggers;

        private TwoNodes(CofferServer a, HttpClient adminA, ILoggerFactory aLoggers, string aDirectory, DevServer b, string bDirectory, string storeId)
        {
            A = a;
            AdminA = adminA;
            _aLoggers = aLoggers;
            _aDirectory = aDirectory;
            B = b;
            _bDirectory = bDirectory;
            StoreId = storeId;
        }

        public CofferServer A { get; }

        /// <summary>Node A's management API, as its administrator.</summary>
        public HttpClient AdminA { get; }

        public DevServer B { get; }

        /// <summary>The demo key store's id.</summary>
        public string StoreId { get; }

        public static async Task<TwoNodes> StartAsync(string connectionString)
        {
            var aDirectory = Directory.CreateTempSubdirectory("coffer-test-a-").FullName;
            var options = new CofferOptions
            {
                DataDirectory = aDirectory,
                Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
                Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
            };
            OnPostgres(options, connectionString, "node-a");
            var aLoggers = LoggerFactory.Create(_ => { });
            var (a, info) = await DevEnvironment.StartAsync(options, aLoggers, null, unaudited: true);
            var adminA = new HttpClient { BaseAddress = a.AdminUrl };
            adminA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", info.AdminToken);

            var bDirectory = Directory.CreateTempSubdirectory("coffer-test-b-").FullName;
            foreach (var file in new[] { DevEnvironment.FileName, "master.key" })
            {
                File.Copy(Path.Combine(aDirectory, file), Path.Combine(bDirectory, file));
            }

            var b = await DevServer.StartAsync(o => OnPostgres(o, connectionString, "node-b"), bDirectory);
            await Wait.UntilAsync(async () => await PingAsync(a.XksUrl) == HttpStatusCode.OK && await PingAsync(b.XksUrl) == HttpStatusCode.OK, "both nodes to be current");
            var stores = (await adminA.GetJsonAsync("/api/v1/keystores")).AsArray();
            var storeId = (string)stores.Single(s => (string?)s!["uriPrefix"] == info.UriPrefix)!["id"]!;
            return new TwoNodes(a, adminA, aLoggers, aDirectory, b, bDirectory, storeId);
        }

        /// <summary>A new key in the demo key store, made on A: its id and name.</summary>
        public async Task<(string Id, string Name)> CreateKeyAsync()
        {
            var name = ManagementApi.Unique("key");
            var key = await AdminA.CreateKeyAsync(StoreId, new { name });
            return ((string)key["id"]!, name);
        }

        public async Task<HashSet<string>> AuditedRequestIdsAsync()
        {
            var records = (await B.Admin.GetJsonAsync("/api/v1/audit/records?action=xks.encrypt&limit=1000"))["records"]!.AsArray();
            return [.. records.Select(r => (string?)r!["kmsRequestId"]).OfType<string>()];
        }

        private static void OnPostgres(CofferOptions options, string connectionString, string nodeId)
        {
            options.NodeId = nodeId;
            options.Storage.Engine = StorageOptions.Postgres;
            options.Storage.ConnectionString = connectionString;
            options.Cluster.StalenessSeconds = StalenessSeconds;
        }

        public async ValueTask DisposeAsync()
        {
            await B.DisposeAsync();
            AdminA.Dispose();
            await A.DisposeAsync();
            _aLoggers.Dispose();
            Directory.Delete(_bDirectory, recursive: true);
            Directory.Delete(_aDirectory, recursive: true);
        }
    }
}
