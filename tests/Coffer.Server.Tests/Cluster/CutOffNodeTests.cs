using System.Diagnostics;
using System.Net;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Coffer.Server.Tests.Cluster;

/// <summary>
/// One node cut off from PostgreSQL while the database and the other node go on (docs/cluster.md,
/// "When the database is gone"): node A reaches the database through a <see cref="TcpProxy"/> (its
/// storage, audit and change connections alike), node B directly. The proxy either resets every
/// connection (the host says it is gone) or swallows every byte (a partition: only timeouts notice).
/// </summary>
public sealed class CutOffNodeTests(ITestOutputHelper output)
{
    /// <summary>The default bound: with the tests' 2 s, node B itself lapsed now and then on a loaded
    /// two-core machine, which is not what this test is about.</summary>
    private const int StalenessSeconds = 5;

    /// <summary>Room for a loaded machine.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(StalenessSeconds + 2);

    private readonly PostgresFixture _postgres = new();

    [Theory]
    [InlineData(TcpCut.Reset)]
    [InlineData(TcpCut.Blackhole)]
    public async Task A_node_cut_off_fails_closed_within_the_bound_while_the_other_serves_and_it_catches_up_when_the_link_returns(TcpCut how)
    {
        var database = await _postgres.CreateDatabaseAsync();
        await using var proxy = TcpProxy.Start(new NpgsqlConnectionStringBuilder(database).Port);
        var throughProxy = new NpgsqlConnectionStringBuilder(database) { Port = proxy.Port }.ConnectionString;
        await using var cluster = await TwoNodes.StartAsync(database, StalenessSeconds, aConnectionString: throughProxy);
        var (keyId, keyName) = await cluster.CreateKeyAsync();
        var xksA = XksClient.For(cluster.A);
        var xksB = XksClient.For(cluster.B);
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keyName, [1])).Status == 200, "node B to serve the new key");
        XksAssert.Ok(await xksA.EncryptAsync(keyName, [1]));
        using var load = new CancellationTokenSource();
        var onB = new XksLoad(xksB, keyName);
        var loadTask = onB.RunAsync(load.Token);

        await proxy.CutAsync(how);
        var cut = Stopwatch.StartNew();
        var calls = new List<string>();
        var refused = await xksA.EncryptAsync(keyName, [1]);
        calls.Add($"{refused.Status} at {cut.ElapsedMilliseconds} ms");
        for (var call = 0; call < 100 && refused.Status == 200 && cut.Elapsed < Wait.Patience; call++)
        {
            refused = await xksA.EncryptAsync(keyName, [1]);
            calls.Add($"{refused.Status} at {cut.ElapsedMilliseconds} ms");
        }

        var refusedAfter = cut.Elapsed;

        // Past the staleness bound A can no longer count as current, whatever its sockets still wait for.
        var past = TimeSpan.FromSeconds(StalenessSeconds + 0.5) - cut.Elapsed;
        if (past > TimeSpan.Zero)
        {
            await Task.Delay(past);
        }

        var ping = await TwoNodes.PingAsync(cluster.A.XksUrl);
        var healthSent = Stopwatch.StartNew();
        var health = await xksA.HealthAsync();
        var healthTook = healthSent.Elapsed;
        var keySent = Stopwatch.StartNew();
        var stillRefused = await xksA.EncryptAsync(keyName, [1]);
        var keyTook = keySent.Elapsed;
        await load.CancelAsync();
        await loadTask;

        // A: refused within the bound with the clear error, taken out by /ping and health, and no answer
        // waits on the silent link past the bound.
        XksAssert.Error(refused, 503, "DependencyTimeoutException");
        Assert.True(refusedAfter < Bound, $"refused {refusedAfter.TotalSeconds:0.0} s after the cut; A's answers: {string.Join(", ", calls)}");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ping);
        XksAssert.Ok(health);
        Assert.Equal("UNAVAILABLE", health.Json.GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        Assert.True(healthTook < Bound, $"health answered after {healthTook.TotalSeconds:0.0} s");
        XksAssert.Error(stillRefused, 503, "DependencyTimeoutException");
        Assert.True(keyTook < Bound, $"a key call answered after {keyTook.TotalSeconds:0.0} s");
        // B served every call meanwhile.
        Assert.Empty(onB.Refused);
        Assert.NotEmpty(onB.Answered);

        // A change made on B while A is cut off.
        using (var engage = await cluster.B.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "key", value = keyId, reason = "while A was cut off" }))
        {
            await engage.JsonAsync(HttpStatusCode.Created);
        }

        XksAssert.Error(await xksB.EncryptAsync(keyName, [1]), 400, "InvalidStateException");

        proxy.Restore();
        var restored = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => await TwoNodes.PingAsync(cluster.A.XksUrl) == HttpStatusCode.OK, "node A to be current again");
        var servedId = XksRequests.NewRequestId();
        var last = stillRefused;
        await Wait.UntilAsync(async () => (last = await xksA.EncryptAsync(cluster.A.Info.KeyId, [1], kmsRequestId: servedId)).Status == 200, "node A to serve again")
            .ContinueWith(t => t.IsFaulted ? throw new TimeoutException($"Node A still answers {last}") : t, TaskScheduler.Default).Unwrap();
        var servedAfter = restored.Elapsed;

        // The switch engaged on B is in force on A, and what A answers is audited.
        XksAssert.Error(await xksA.EncryptAsync(keyName, [1]), 400, "InvalidStateException");
        var audited = await cluster.AuditedRequestIdsAsync();
        Assert.Contains(servedId, audited);
        Assert.All(onB.Answered, id => Assert.Contains(id, audited));
        output.WriteLine($"{how}: A refused key calls {refusedAfter.TotalMilliseconds:0} ms after the cut (staleness bound {StalenessSeconds} s); " +
            $"health answered in {healthTook.TotalMilliseconds:0} ms, a key call in {keyTook.TotalMilliseconds:0} ms; " +
            $"B answered {onB.Answered.Count} calls meanwhile; A served again {servedAfter.TotalMilliseconds:0} ms after the link returned");
    }
}
