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

    /// <summary>What a key call is answered when its audit record cannot be written.</summary>
    internal const string AuditUnavailableMessage = "Coffer cannot reach its audit store, so the request was not carried out; retry shortly.";

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task A_kill_switch_engaged_on_one_node_blocks_the_other_within_a_second()
    {
        await using var cluster = await TwoNodes.StartAsync(await _postgres.CreateDatabaseAsync(), StalenessSeconds);
        var (keyId, keyName) = await cluster.CreateKeyAsync();
        var xksB = XksClient.For(cluster.B);
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200, "node B to serve the new key");
        var engagedAfter = new List<double>();
        var releasedAfter = new List<double>();

        for (var round = 0; round < 20; round++)
        {
            using var engage = await cluster.AdminA.PostJsonAsync("/api/v1/kill-switches", new { scope = "key", value = keyId, reason = "drill" });
            var switchId = (string)(await engage.JsonAsync(HttpStatusCode.Created))["id"]!;
            engagedAfter.Add(await Propagation.MillisecondsUntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 400));

            using var release = await cluster.AdminA.PostAsync($"/api/v1/kill-switches/{switchId}/release", null);
            await release.JsonAsync(HttpStatusCode.OK);
            releasedAfter.Add(await Propagation.MillisecondsUntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200));
        }

        output.WriteLine($"engage on A -> refused on B: p50 {Percentile(engagedAfter, 50):0.0} ms, p99 {Percentile(engagedAfter, 99):0.0} ms (20 rounds)");
        output.WriteLine($"release on A -> served on B: p50 {Percentile(releasedAfter, 50):0.0} ms, p99 {Percentile(releasedAfter, 99):0.0} ms");
        Assert.True(Percentile(engagedAfter, 99) < 1000, "p99 of the kill switch's delay to the other node is under a second");
    }

    [Fact]
    public async Task A_key_disabled_and_a_credential_revoked_on_one_node_are_refused_by_the_other()
    {
        await using var cluster = await TwoNodes.StartAsync(await _postgres.CreateDatabaseAsync(), StalenessSeconds);
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
        await using var cluster = await TwoNodes.StartAsync(server.ConnectionString, StalenessSeconds);
        var xksB = XksClient.For(cluster.B);
        XksAssert.Ok(await xksB.EncryptAsync(cluster.B.Info.KeyId, [1]));
        using var load = new CancellationTokenSource();
        var calls = new XksLoad(xksB, cluster.B.Info.KeyId);
        var loadTask = calls.RunAsync(load.Token);

        await Task.Delay(500);
        server.Kill();
        var cut = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await TwoNodes.PingAsync(cluster.B.XksUrl)) == HttpStatusCode.ServiceUnavailable, "node B's /ping to answer 503");
        var refused = await xksB.EncryptAsync(cluster.B.Info.KeyId, [1]);
        var refusedAfter = cut.Elapsed;
        var health = await xksB.HealthAsync();
        using var keys = await cluster.B.Admin.GetAsync("/api/v1/keys");
        var problem = await keys.Content.ReadAsStringAsync();

        // Refused with the spec's error for a dependency, which AWS KMS retries; the refusal could not be audited either.
        XksAssert.Error(refused, 503, "DependencyTimeoutException");
        Assert.Equal(AuditUnavailableMessage, refused.ErrorMessage);
        Assert.True(refusedAfter < TimeSpan.FromSeconds(StalenessSeconds + 2), $"refused {refusedAfter.TotalSeconds:0.0} s after the cut");
        XksAssert.Ok(health);
        Assert.Equal("UNAVAILABLE", health.Json.GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, keys.StatusCode);
        Assert.Equal("application/problem+json", keys.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"title\":\"Database unavailable\"", problem, StringComparison.Ordinal);

        await server.StartAsync();
        await Wait.UntilAsync(async () => (await TwoNodes.PingAsync(cluster.B.XksUrl)) == HttpStatusCode.OK, "node B's /ping to answer 200 again");
        var last = refused;
        await Wait.UntilAsync(async () => (last = await xksB.EncryptAsync(cluster.B.Info.KeyId, [1])).Status == 200, "node B to serve again")
            .ContinueWith(t => t.IsFaulted ? throw new TimeoutException($"Node B still answers {last.Status} {last.Body}") : t, TaskScheduler.Default).Unwrap();
        await Task.Delay(500);
        await load.CancelAsync();
        await loadTask;

        // Under load every call was answered, served or refused with the clear error, never a 500, and
        // an answered call is never without its audit record (docs/design.md, "Audit").
        Assert.All(calls.Refused, r => XksAssert.Error(r, 503, "DependencyTimeoutException"));
        Assert.NotEmpty(calls.Answered);
        var audited = await cluster.AuditedRequestIdsAsync();
        Assert.All(calls.Answered, id => Assert.Contains(id, audited));
        output.WriteLine($"B refused key calls {refusedAfter.TotalMilliseconds:0} ms after PostgreSQL was killed; {calls.Answered.Count} calls answered and {calls.Refused.Count} refused under load");
    }

    [Fact]
    public async Task A_node_whose_change_listener_is_cut_off_refuses_key_calls_and_catches_up_by_itself()
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var cluster = await TwoNodes.StartAsync(database, StalenessSeconds);
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
        var ping = await TwoNodes.PingAsync(cluster.B.XksUrl);
        using (var engage = await cluster.AdminA.PostJsonAsync("/api/v1/kill-switches", new { scope = "key", value = keyId, reason = "while B was cut off" }))
        {
            await engage.JsonAsync(HttpStatusCode.Created);
        }

        await cutting.CancelAsync();
        await cutter;
        await Wait.UntilAsync(async () => await TwoNodes.PingAsync(cluster.B.XksUrl) == HttpStatusCode.OK, "node B to be current again");
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

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }
}
