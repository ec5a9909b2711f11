using System.Diagnostics;

namespace Coffer.Bench;

/// <summary>What the cluster run measured, for <see cref="ClusterReport"/>.</summary>
public sealed record ClusterResults(List<Measured> Rows, KillSwitchPropagation.Result? KillSwitch, Measured? Steady, Measured? Failover, string KilledNode, string LoadAtStart);

public static partial class Orchestrator
{
    public const string SqliteServer = "Coffer, 1 node on SQLite";
    public const string Postgres1Server = "Coffer, 1 node on PostgreSQL";
    public const string Postgres2Server = "Coffer, 2 nodes on PostgreSQL behind HAProxy";
    public const string SteadyScenario = "encrypt 32 B open loop, both nodes up";
    public const string FailoverScenario = "encrypt 32 B open loop, one node SIGKILLed at the midpoint";

    /// <summary>`--cluster`: encrypt on 1 node on SQLite (the `coffer dev` already running), 1 node on
    /// PostgreSQL and 2 nodes on PostgreSQL behind HAProxy, each at its best concurrency, with the ceiling
    /// of the same run; the SQLite and one-node PostgreSQL rows take turns --repeat times, since this
    /// machine drifts between minutes. Then, on the 2 nodes: a kill switch's propagation from one node
    /// to the other, and the open loop at --rate through HAProxy with one node killed at the midpoint.</summary>
    private static async Task<ClusterResults> ClusterScenariosAsync(Options o, ChildProcesses children, string work,
        XksTarget sqlite, Process sqliteProcess, XksTarget ceilingTarget, int ceilingPid, string encPath, List<byte[]> enc32)
    {
        var loadAtStart = CpuSampler.LoadAverage();
        var sqlitePid = sqliteProcess.Id;
        var rows = new List<Measured>();
        async Task<Measured> Closed(string serverName, XksTarget t, Func<CpuSampler> sampler, int c, TimeSpan warmup, TimeSpan duration, string name = EncryptScenario)
        {
            var m = await MeasureClosedAsync(o, name, t, sampler, encPath, enc32, c, warmup, duration, serverName == "ceiling", serverName);
            Log(Report.Line(m, null));
            return m;
        }
        // Each target at its own best concurrency (the trials also warm it up), unless --concurrency fixes it.
        async Task<int> BestAsync(string serverName, XksTarget t, Func<CpuSampler> sampler)
        {
            if (o.Concurrency is { } fixedC) return fixedC;
            var trials = new List<Measured>();
            foreach (var c in o.Candidates)
                trials.Add(await Closed(serverName, t, sampler, c, TimeSpan.FromSeconds(1), o.Trial, $"trial encrypt c={c}"));
            var best = trials.MaxBy(m => m.Result.Rps)!.Result.Concurrency;
            Log($"{serverName}: c={best}");
            return best;
        }

        var cCeiling = await BestAsync("ceiling", ceilingTarget, () => new CpuSampler(ceilingPid));
        rows.Add(await Closed("ceiling", ceilingTarget, () => new CpuSampler(ceilingPid), cCeiling, o.Warmup, o.Duration, "ceiling (bare Kestrel)"));
        var cSqlite = await BestAsync(SqliteServer, sqlite, () => new CpuSampler(sqlitePid));

        Log("setting up PostgreSQL: `coffer dev --cluster 2`, then the bench's own PostgreSQL and `coffer server` nodes on that database");
        var cluster = await CofferCluster.SetUpAsync(o, children, work);
        var database = ("PostgreSQL", cluster.Postgres.Postmaster);
        var first = await cluster.StartNodeAsync(1);
        CpuSampler OneNode() => new([first.Process.Id], database);
        var cPostgres1 = await BestAsync(Postgres1Server, first.Target, OneNode);
        for (var pair = 1; pair <= o.Repeat; pair++)
        {
            rows.Add(await Closed(SqliteServer, sqlite, () => new CpuSampler(sqlitePid), cSqlite, o.Warmup, o.Duration) with { Run = pair });
            rows.Add(await Closed(Postgres1Server, first.Target, OneNode, cPostgres1, o.Warmup, o.Duration) with { Run = pair });
        }
        children.Stop(sqliteProcess); // idle from here on; the rest is the cluster's

        var second = await cluster.StartNodeAsync(2);
        var (haproxy, haproxyPort) = await HaproxyServer.StartAsync(children, work, Path.GetFullPath("docs/haproxy.cfg"), [first.Target.BaseUrl.Port, second.Target.BaseUrl.Port]);
        var balanced = cluster.At(haproxyPort);
        await DevInfo.WaitHealthyAsync(balanced, haproxy, Path.Combine(work, "haproxy.log"), TimeSpan.FromSeconds(30));
        CpuSampler TwoNodes() => new([first.Process.Id, second.Process.Id], database, ("HAProxy", haproxy.Id));
        var cPostgres2 = await BestAsync(Postgres2Server, balanced, TwoNodes);
        rows.Add(await Closed(Postgres2Server, balanced, TwoNodes, cPostgres2, o.Warmup, o.Duration));

        KillSwitchPropagation.Result? killSwitch = null;
        if (o.KillSwitchSamples > 0)
        {
            Log($"kill switch: engaged on {first.Id}, XKS encrypts on {second.Id} until refused; {o.KillSwitchSamples} samples");
            killSwitch = await KillSwitchPropagation.MeasureAsync(first.AdminUrl, cluster.AdminToken, second.Target, encPath, enc32[..64], o.KillSwitchSamples, TimeSpan.FromMinutes(4));
            Log(killSwitch.Describe());
        }

        Measured? steady = null, failover = null;
        if (o.FailoverDuration > TimeSpan.Zero)
        {
            // The open loop through HAProxy, first with both nodes up, then with one dying as in a crash
            // (SIGKILL, no shutdown) at the midpoint of the measured window: HAProxy finds out by its checks.
            async Task<Measured> OpenAsync(string name, Disruption? kill)
            {
                var signed = XksRequests.SignPool(balanced, encPath, enc32);
                using var factory = Clients.Create(o.Client, o.OpenConnections);
                // With a node killed, the survivor's CPU only: the killed node's counters vanish with it.
                var cpu = new CpuSampler(kill is null ? [first.Process.Id, second.Process.Id] : [first.Process.Id], database, ("HAProxy", haproxy.Id));
                var r = await LoadRunner.OpenLoopAsync(name, factory, signed, o.Rate, o.OpenConnections, o.Warmup, o.FailoverDuration, kill);
                var m = new Measured(r, cpu.Stop(), false, Postgres2Server, Note: kill is null ? null : $"server CPU: {first.Id}, the node that survived", Side: cpu.Side);
                Log(Report.Line(m, null));
                return m;
            }
            steady = await OpenAsync(SteadyScenario, null);
            failover = await OpenAsync(FailoverScenario, new Disruption(o.FailoverDuration / 2, () => children.Stop(second.Process)));
        }
        return new ClusterResults(rows, killSwitch, steady, failover, second.Id, loadAtStart);
    }
}
