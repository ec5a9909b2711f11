using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Coffer.Bench;

/// <summary>The Markdown report of `--cluster` (bench/results/cluster-latest.md): the three
/// configurations against the ceiling and each other, CPU per call, the kill switch's propagation,
/// the failover, and what N machines would serve.</summary>
public static class ClusterReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly int[] ProjectedNodes = [1, 2, 3, 5];

    public static string Build(Options o, ClusterResults cluster)
    {
        var rows = cluster.Rows;
        var ceiling = rows.First(m => m.IsCeiling).Result;
        var sqlite = rows.Where(m => m.ServerName == Orchestrator.SqliteServer).ToList();
        var postgres1 = rows.Where(m => m.ServerName == Orchestrator.Postgres1Server).ToList();
        var postgres2 = rows.FirstOrDefault(m => m.ServerName == Orchestrator.Postgres2Server);
        var sqliteMedian = Report.Median(sqlite.Select(m => m.Result.Rps));
        double ToSqlite(Measured m) => m.Result.Rps / (sqlite.FirstOrDefault(s => m.Run > 0 && s.Run == m.Run)?.Result.Rps ?? sqliteMedian);

        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"# Coffer cluster benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(Inv, $"Command: `bench/run.sh --cluster` (--duration {o.Duration.TotalSeconds:0} --warmup {o.Warmup.TotalSeconds:0} --repeat {o.Repeat} --rate {o.Rate:0} --failover-duration {o.FailoverDuration.TotalSeconds:0} --kill-switch-samples {o.KillSwitchSamples}); load average at the start {cluster.LoadAtStart}, at the end {CpuSampler.LoadAverage()}.");
        sb.AppendLine();
        sb.AppendLine("Encrypt 32 B, closed loop, each configuration at its best concurrency. CPU per call: CPU seconds of the Coffer process(es), all nodes summed, over calls answered; PostgreSQL's (postmaster and backends) and HAProxy's apart.");
        sb.AppendLine();
        sb.AppendLine("| configuration | concurrency | req/s | p50 | p99 | ratio to ceiling | ratio to 1 node on SQLite | Coffer CPU per call | PostgreSQL CPU per call | HAProxy CPU per call | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in rows)
        {
            var r = m.Result;
            var name = (m.IsCeiling ? r.Scenario : m.ServerName) + (m.Run > 0 ? $", pair {m.Run}" : "");
            var toSqlite = m.IsCeiling ? "—" : ToSqlite(m).ToString("0.00", Inv);
            sb.AppendLine(Inv, $"| {name} | {r.Concurrency} | {r.Rps:#,0} | {Report.Ms(r.Latency.PercentileNs(0.50))} | {Report.Ms(r.Latency.PercentileNs(0.99))} | {r.Rps / ceiling.Rps:0.00} | {toSqlite} | {Us(m.Cpu.Server, r.Rps)} | {Us(SideCores(m, "PostgreSQL"), r.Rps)} | {Us(SideCores(m, "HAProxy"), r.Rps)} | {r.Errors} |");
        }
        sb.AppendLine();
        foreach (var m in rows) sb.AppendLine("- " + Report.Line(m, ceiling));
        foreach (var open in new[] { cluster.Steady, cluster.Failover }.OfType<Measured>()) sb.AppendLine("- " + Report.Line(open, null));
        sb.AppendLine();

        var noisy = rows.Where(m => m.Cpu.Other > 0.15).ToList();
        if (noisy.Count > 0)
            sb.AppendLine(Inv, $"**Caveat: the machine was not quiet** — other processes used up to {noisy.Max(m => m.Cpu.Other):0.00} cores during {noisy.Count} of {rows.Count} rows; those numbers are lower than this machine can do.\n");

        sb.AppendLine("Goals:");
        var pairs = postgres1.Select(ToSqlite).ToList();
        if (pairs.Count > 0)
        {
            var median = Report.Median(pairs);
            sb.AppendLine(Inv, $"- 1 node on PostgreSQL >= 70 % of 1 node on SQLite, median of {pairs.Count} back-to-back pair(s): {median:P0} ({string.Join(", ", pairs.Select(p => p.ToString("P0", Inv)))}) — {(median >= 0.7 ? "met" : "MISSED")}");
        }
        if (cluster.KillSwitch is { EngageMs.Count: > 0 } ks)
        {
            var p99 = KillSwitchPropagation.Percentile(ks.EngageMs, 0.99);
            sb.AppendLine(Inv, $"- kill switch in force on the other node, p99 < 1 s (aim 100 ms): p50 {KillSwitchPropagation.Percentile(ks.EngageMs, 0.5):0.0} ms, p99 {p99:0.0} ms — {(p99 < 1000 ? "met" : "MISSED")}{(p99 < 100 ? ", within the aim" : "")}");
            sb.AppendLine("  " + ks.Describe());
        }
        if (cluster.Failover is { Result: var f })
        {
            var p999 = f.Latency.PercentileNs(0.999) / 1e6;
            sb.AppendLine(Inv, $"- failover, p99.9 < 250 ms (AWS KMS's timeout) at {f.TargetRate:0} req/s through HAProxy with {cluster.KilledNode} SIGKILLed at the midpoint: p50 {Report.Ms(f.Latency.PercentileNs(0.5))}, p99 {Report.Ms(f.Latency.PercentileNs(0.99))}, p99.9 {p999:0.00} ms, max {Report.Ms(f.Latency.MaxNs)} — {(p999 < 250 ? "met" : "MISSED")} (latency of the answered calls)");
            sb.AppendLine(Inv, $"  {Failover(f)}");
            if (cluster.Steady is { Result: var s })
                sb.AppendLine(Inv, $"  The same open loop with both nodes up, right before: p50 {Report.Ms(s.Latency.PercentileNs(0.5))}, p99 {Report.Ms(s.Latency.PercentileNs(0.99))}, p99.9 {Report.Ms(s.Latency.PercentileNs(0.999))}, {s.Errors} errors.");
        }
        sb.AppendLine();
        if (postgres2 is not null) AppendProjection(sb, postgres2, postgres1.LastOrDefault());
        sb.AppendLine("Conditions:");
        sb.AppendLine(Inv, $"- machine: {Report.CpuModel()}, {Environment.ProcessorCount} logical CPU(s), {RuntimeInformation.OSDescription}, .NET {Environment.Version}; nothing pinned: every node, PostgreSQL, HAProxy and the load generator share the CPUs");
        sb.AppendLine(Inv, $"- Coffer {o.CofferVersion ?? ""}: 1 node on SQLite = `coffer dev` as a user starts it; PostgreSQL = the database `coffer dev --cluster 2` made (its initdb, dev seal, demo key store), then served by the bench's own PostgreSQL with initdb's defaults (fsync and synchronous_commit on) and `coffer server --config` nodes (dev seal, default cluster settings, default log level: one line per call to a file)");
        sb.AppendLine(Inv, $"- HAProxy: docs/haproxy.cfg (TCP passthrough, round robin, GET /ping checks every 2 s, fall 2, rise 2, on-marked-down shutdown-sessions) with a loopback bind, one server line per node and plain-HTTP checks");
        sb.AppendLine(Inv, $"- client: {Clients.Create(o.Client, 1).Name}; closed loop: best of {string.Join('/', o.Candidates)} in {o.Trial.TotalSeconds:0} s trials per configuration{(o.Concurrency is { } c ? $" (fixed: {c})" : "")}; warmup {o.Warmup.TotalSeconds:0} s, measured {o.Duration.TotalSeconds:0} s; open loop: {o.Rate:0}/s on {o.OpenConnections} connections, latency from each request's scheduled time");
        sb.AppendLine(Inv, $"- requests: {o.PoolSize}+ distinct encrypt bodies signed with AWSSDK.Core's AWS4Signer right before each row");
        return sb.ToString();
    }

    private static string Failover(RunResult f)
    {
        if (f.Disrupted is not { } d) return "(the node was not killed)";
        var errorsStopped = d.LastError is { } last ? string.Create(Inv, $"the last failed call ended {last.TotalSeconds:0.00} s after the kill") : "no call failed";
        return string.Create(Inv, $"client-visible errors: {f.Errors:#,0} of {f.Ok + f.Errors:#,0} calls; at the kill {d.InFlight} calls were sent and unanswered over both nodes, about half of them on the killed node (HAProxy spreads connections round robin), and {d.Queued} more were due and waiting in the client for a free connection. " +
            $"Of the {f.Concurrency} keep-alive connections about half went to the killed node; a client finds such a connection closed only when it next sends on it, so each of them fails one call, in flight or not, before the client reconnects (and HAProxy sends the new connection to the live node); {errorsStopped}. First error: {f.FirstError ?? "none"}");
    }

    /// <summary>What N machines would serve, from CPU per call: each node on a machine of its own with
    /// this machine's vCPUs, the load generator elsewhere, and PostgreSQL on one more such machine.</summary>
    private static void AppendProjection(StringBuilder sb, Measured two, Measured? one)
    {
        var cores = Environment.ProcessorCount;
        var nodeCpu = two.Cpu.Server / two.Result.Rps;
        var dbCpu = SideCores(two, "PostgreSQL") / two.Result.Rps;
        if (nodeCpu <= 0 || dbCpu <= 0) return;
        var database = cores / dbCpu;
        sb.AppendLine("Projection from CPU per call (an estimate, not a measurement):");
        sb.AppendLine(Inv, $"- Here the two nodes, PostgreSQL, HAProxy and the load generator share {cores} vCPUs, so two nodes cannot serve twice what one does: the 2-node row measures what the cluster costs per call, not what it can serve.");
        sb.AppendLine(Inv, $"- Assumed: each node on a machine of its own with {cores} vCPUs, fully usable by Coffer (load generator and balancer elsewhere), costing what a call cost in the 2-node row ({nodeCpu * 1e6:0} µs of node CPU per call{(one is null ? "" : string.Create(Inv, $"; {one.Cpu.Server / one.Result.Rps * 1e6:0} µs on 1 node"))}), and PostgreSQL on one more machine of {cores} vCPUs at {dbCpu * 1e6:0} µs per call: it alone would allow {database:#,0} req/s. Not modelled: the audit chain's lock, which the nodes' commits take in turn (docs/cluster.md, \"One audit log\"); disks, network round trips and the standby.");
        sb.AppendLine();
        sb.AppendLine("| nodes | what the nodes' CPU allows | what PostgreSQL's CPU allows | projected req/s |");
        sb.AppendLine("|---:|---:|---:|---:|");
        foreach (var n in ProjectedNodes)
        {
            var nodes = n * cores / nodeCpu;
            sb.AppendLine(Inv, $"| {n} | {nodes:#,0} | {database:#,0} | {Math.Min(nodes, database):#,0} |");
        }
        sb.AppendLine();
    }

    private static double SideCores(Measured m, string name) => m.Side?.FirstOrDefault(s => s.Name == name).Cores ?? 0;

    private static string Us(double cores, double rps) => cores <= 0 || rps <= 0 ? "—" : (cores / rps * 1e6).ToString("0", Inv) + " µs";
}
