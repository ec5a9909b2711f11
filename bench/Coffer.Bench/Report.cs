using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Coffer.Bench;

/// <summary>The Markdown report (README-ready table, one line per scenario, goals, conditions).</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Build(Options o, IReadOnlyList<Measured> results, bool serverGc, string serverName, (string Line, double? Rps)? wrk,
        AnonymousFlood.Result? floodAlone = null)
    {
        var ceiling = results.First(m => m.IsCeiling).Result;
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"# Coffer XKS benchmark — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        if (serverName != "Coffer") sb.AppendLine("**DEVELOPMENT RUN against the bench's fake XKS endpoint — not a Coffer result.**\n");
        sb.AppendLine("| scenario | concurrency | req/s | p50 | p90 | p99 | ratio to ceiling | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in results)
        {
            var r = m.Result;
            var name = (m.IsCeiling ? r.Scenario : $"{serverName} {r.Scenario}") + (m.Run > 0 ? $", audit pair {m.Run}" : "");
            var conc = r.TargetRate is { } rate ? $"open loop {rate:0}/s ({r.Concurrency} conns)" : r.Concurrency.ToString(Inv);
            var ratio = m.IsCeiling ? "1.00" : r.TargetRate is null ? (r.Rps / ceiling.Rps).ToString("0.00", Inv) : "n/a (fixed rate)";
            sb.AppendLine(Inv, $"| {name} | {conc} | {r.Rps:#,0} | {Ms(r.Latency.PercentileNs(0.50))} | {Ms(r.Latency.PercentileNs(0.90))} | {Ms(r.Latency.PercentileNs(0.99))} | {ratio} | {r.Errors} |");
        }
        sb.AppendLine();
        foreach (var m in results) sb.AppendLine("- " + Line(m, ceiling));
        if (wrk is { } w) sb.AppendLine("- " + w.Line);
        sb.AppendLine();

        var enc = results.FirstOrDefault(m => !m.IsCeiling && m.Run == 0 && m.Result.TargetRate is null && m.Result.Scenario == Orchestrator.EncryptScenario)?.Result;
        var open = results.FirstOrDefault(m => m.Result.TargetRate is not null && m.Result.Scenario != AnonymousFlood.FloodScenario)?.Result;
        var noisy = results.Where(m => m.Cpu.Other > 0.15).ToList();
        if (noisy.Count > 0)
            sb.AppendLine(Inv, $"**Caveat: the machine was not quiet** — other processes used up to {noisy.Max(m => m.Cpu.Other):0.00} cores during {noisy.Count} of {results.Count} scenarios; those numbers are lower than this machine can do.\n");
        sb.AppendLine("Goals:");
        if (enc is not null)
        {
            var ratio = enc.Rps / ceiling.Rps;
            sb.AppendLine(Inv, $"- encrypt >= 50 % of the ceiling: {ratio:P0} — {(ratio >= 0.5 ? "met" : "MISSED")}");
            if (wrk is { Rps: { } wrps })
                sb.AppendLine(Inv, $"  (against wrk's measurement of the same ceiling, {wrps:#,0} req/s, it would be {enc.Rps / wrps:P0}: wrk is the cheaper client, so it leaves the server more of the shared CPUs)");
            sb.AppendLine(Inv, $"- encrypt >= 10,000 req/s: {enc.Rps:#,0} — {(enc.Rps >= 10_000 ? "met" : "MISSED")}");
        }
        if (open is not null)
        {
            var p99 = open.Latency.PercentileNs(0.99) / 1e6;
            sb.AppendLine(Inv, $"- p99 < 10 ms at a fixed {open.TargetRate:0} req/s: {p99:0.00} ms — {(p99 < 10 && open.Errors == 0 ? "met" : "MISSED")}");
        }
        // Each pair: the audit-off server, then the audited one, seconds apart (Orchestrator, "unaudited").
        var pairs = results.Where(m => m.Run > 0 && m.Result.Scenario == Orchestrator.EncryptScenario)
            .Select(on => (On: on.Result.Rps, Off: results.Single(m => m.Run == on.Run && m.Result.Scenario == Orchestrator.UnauditedScenario).Result.Rps))
            .ToList();
        if (pairs.Count > 0)
        {
            var median = Median(pairs.Select(p => p.On / p.Off));
            sb.AppendLine(Inv, $"- encrypt with the audit log >= 75 % of encrypt with it off, median of {pairs.Count} back-to-back pairs: {median:P0} " +
                $"({string.Join("; ", pairs.Select(p => string.Create(Inv, $"{p.On:#,0} / {p.Off:#,0} = {p.On / p.Off:P0}")))}) — {(median >= 0.75 ? "met" : "MISSED")}");
        }
        foreach (var goal in AnonymousFlood.Goals(results, floodAlone)) sb.AppendLine(goal);
        if (floodAlone is not null) sb.AppendLine("- " + floodAlone.Describe() + " (alone)");
        sb.AppendLine();
        sb.AppendLine("Conditions:");
        sb.AppendLine(Inv, $"- machine: {CpuModel()}, {Environment.ProcessorCount} logical CPU(s) visible to the client, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        sb.AppendLine(Inv, $"- pinning: {(o.Pin == "split" ? "servers (ceiling and Coffer alike) on CPU 0 via taskset, the load generator on CPU 1" : "none: servers and load generator share both CPUs")}; client affinity {CpuSampler.Affinity()}");
        sb.AppendLine(Inv, $"- client: {Clients.Create(o.Client, 1).Name}, one connection per worker, {(Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1" ? "socket completions inline on the epoll thread (client only; servers run with defaults)" : "default socket completions")}; closed loop = each worker sends its next request when the previous answered");
        sb.AppendLine(Inv, $"- open loop: constant arrival schedule at {o.Rate:0}/s over {o.OpenConnections} connections; latency from each request's *scheduled* send time (no coordinated omission)");
        sb.AppendLine(Inv, $"- requests: {o.PoolSize}+ distinct pre-signed requests per scenario (own kmsRequestId, random plaintext, 32-byte AAD), SigV4 by AWSSDK.Core AWS4Signer, signed before each scenario and replayed within the 5-minute skew window; decrypt pool = real ciphertexts from the server");
        sb.AppendLine(Inv, $"- warmup {o.Warmup.TotalSeconds:0} s, measured {o.Duration.TotalSeconds:0} s per scenario; {(o.Concurrency is null ? $"concurrency auto: best of {string.Join('/', o.Candidates)} in {o.Trial.TotalSeconds:0} s trials, per target" : "concurrency fixed by --concurrency")}");
        sb.AppendLine(Inv, $"- the ceiling answers a fixed encrypt-sized response for a 32-byte plaintext; ratios of the 4300-byte and decrypt rows compare different work and are indicative only");
        sb.AppendLine(Inv, $"- server: {(o.CofferVersion is null ? "" : $"Coffer {o.CofferVersion}, ")}`coffer dev` as a user starts it (SQLite, dev seal, plain HTTP on loopback){(o.CofferArgs.Count > 0 ? " with extra arguments `" + string.Join(' ', o.CofferArgs) + "`" : ", default log level (one log line per call to stdout, redirected to a file)")}");
        sb.AppendLine(Inv, $"- server GC: {(serverGc ? "server" : "workstation")} for both servers (the ceiling mirrors Coffer's runtimeconfig); HTTP/1.1 over loopback, no TLS");
        sb.AppendLine(Inv, $"- quietness: load average at the end {CpuSampler.LoadAverage()}; 'other processes' CPU per scenario is everything but the server, the client and interrupt/softirq time (the loopback TCP stack), hypervisor steal included");
        return sb.ToString();
    }

    /// <summary>`--backend pkcs11`: every row against the raw PKCS#11 ceiling measured in the same run
    /// (a repeated Coffer row against the raw run right before it), the run to run spread, the goal.</summary>
    public static string BuildPkcs11(Options o, IReadOnlyList<Measured> results, bool serverGc, DiskFlush.Result? flush)
    {
        var n = o.HsmConcurrency;
        var raws = results.Where(m => m.IsRaw && m.Run > 0 && m.Result.Scenario.Contains("token", StringComparison.Ordinal)).ToList();
        bool IsAuditOff(Measured m) => m.Result.Scenario.Contains(Orchestrator.AuditOff, StringComparison.Ordinal);
        var encs = results.Where(m => !m.IsRaw && !m.IsCeiling && m.Run > 0 && !IsAuditOff(m)).ToList();
        var encsOff = results.Where(m => !m.IsRaw && !m.IsCeiling && m.Run > 0 && IsAuditOff(m)).ToList();
        var rawMedian = Median(raws.Select(m => m.Result.Rps));
        double? RatioOf(Measured m)
        {
            if (m.IsCeiling || m.Result.TargetRate is not null || rawMedian <= 0) return null;
            var paired = m.Run > 0 ? raws.FirstOrDefault(r => r.Run == m.Run) : null;
            return m.Result.Rps / (paired?.Result.Rps ?? rawMedian);
        }

        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"# Coffer XKS benchmark, PKCS#11 backend (SoftHSM2) — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(Inv, $"| scenario | concurrency | ops/s | p50 | p90 | p99 | ratio to raw PKCS#11 @{n} | errors |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var m in results)
        {
            var r = m.Result;
            var name = (m.IsCeiling || m.IsRaw ? r.Scenario : $"Coffer {r.Scenario}") + (m.Run > 0 && o.Repeat > 1 ? $" (run {m.Run})" : "");
            var conc = r.TargetRate is { } rate ? $"open loop {rate:0}/s ({r.Concurrency} conns)"
                : m.IsRaw ? $"{r.Concurrency} threads" : r.Concurrency.ToString(Inv);
            var ratio = RatioOf(m) is { } x ? x.ToString("0.00", Inv) : m.IsCeiling ? "(HTTP only, no HSM)" : "n/a (fixed rate)";
            sb.AppendLine(Inv, $"| {name} | {conc} | {r.Rps:#,0} | {Ms(r.Latency.PercentileNs(0.50))} | {Ms(r.Latency.PercentileNs(0.90))} | {Ms(r.Latency.PercentileNs(0.99))} | {ratio} | {r.Errors} |");
        }
        sb.AppendLine();
        foreach (var m in results) sb.AppendLine("- " + Line(m, null) + (RatioOf(m) is { } x ? string.Create(Inv, $", {x:P0} of raw PKCS#11") : ""));
        sb.AppendLine();

        var ratios = encs.Select(m => RatioOf(m) ?? 0).ToList();
        var ratiosOff = encsOff.Select(m => RatioOf(m) ?? 0).ToList();
        if (raws.Count > 1)
        {
            static string Spread(List<double> v) => v.Count == 0 ? "n/a" : string.Create(Inv,
                $"{string.Join(" / ", v.Select(x => x.ToString(x >= 10 ? "#,0" : "0.00", Inv)))} (min–max {(v.Max() - v.Min()) / Median(v):P0} of the median)");
            sb.AppendLine(Inv, $"Run to run ({raws.Count} back-to-back pairs, raw then Coffer, same processes):");
            sb.AppendLine(Inv, $"- raw PKCS#11 @{n}: {Spread([.. raws.Select(m => m.Result.Rps)])} ops/s");
            if (encs.Count > 0)
            {
                sb.AppendLine(Inv, $"- Coffer encrypt @{n}: {Spread([.. encs.Select(m => m.Result.Rps)])} req/s");
                sb.AppendLine(Inv, $"- ratio: {Spread(ratios)}");
            }
            if (encsOff.Count > 0)
            {
                sb.AppendLine(Inv, $"- Coffer encrypt @{n}, audit off: {Spread([.. encsOff.Select(m => m.Result.Rps)])} req/s, ratio {Spread(ratiosOff)}");
            }
            sb.AppendLine();
        }

        var noisy = results.Where(m => m.Cpu.Other > 0.15).ToList();
        if (noisy.Count > 0)
            sb.AppendLine(Inv, $"**Caveat: the machine was not quiet** — other processes used up to {noisy.Max(m => m.Cpu.Other):0.00} cores during {noisy.Count} of {results.Count} scenarios ({string.Join(", ", noisy.Select(m => m.Result.Scenario + (m.Run > 0 ? $" run {m.Run}" : "")))}); those numbers are lower than this machine can do.\n");
        sb.AppendLine("Goal:");
        void Goal(string what, List<double> r)
        {
            var med = Median(r);
            sb.AppendLine(Inv, $"- encrypt @{n} >= 60 % of raw PKCS#11 @{n}, {what}: {med:P0} (median of {r.Count} paired run(s); lowest {r.Min():P0}) — {(med >= 0.6 ? (r.Min() >= 0.6 ? "met" : "met on the median, not in every run") : "MISSED")}");
        }
        if (ratiosOff.Count > 0) Goal("the HSM path (audit log off)", ratiosOff);
        if (ratios.Count > 0) Goal("as shipped (audit log on; its cost is measured by the software run's audit-off row)", ratios);
        if (results.FirstOrDefault(m => m.Result.TargetRate is not null)?.Result is { } open)
        {
            var p99 = open.Latency.PercentileNs(0.99) / 1e6;
            sb.AppendLine(Inv, $"- p99 < 10 ms at a fixed {open.TargetRate:0} req/s: {p99:0.00} ms — {(p99 < 10 && open.Errors == 0 ? "met" : "MISSED")}");
        }
        sb.AppendLine();
        AppendBound(sb, n, rawMedian, flush, results.FirstOrDefault(m => m.Run == 0 && !m.IsRaw && IsAuditOff(m) && m.Result.Scenario.Contains("software", StringComparison.Ordinal)));
        sb.AppendLine("Conditions:");
        sb.AppendLine(Inv, $"- machine: {CpuModel()}, {Environment.ProcessorCount} logical CPU(s), {RuntimeInformation.OSDescription}, .NET {Environment.Version}; pinning: {(o.Pin == "split" ? "servers and the raw ceiling on CPU 0, load generator on CPU 1" : "none (everything shares both CPUs)")}");
        sb.AppendLine(Inv, $"- token: SoftHSM2 ({o.HsmModule}, file object store) made by `coffer dev --pkcs11` under its data directory, label `coffer-dev`; Coffer's session pool: its default (8 sessions)");
        sb.AppendLine(Inv, $"- raw PKCS#11: `Coffer.Bench pkcs11-ceiling`, a separate process with SOFTHSM2_CONF set, on the same token while `coffer dev` idles; {n} threads, each with its own logged-in R/W session, closed loop; per op what Coffer's HSM key does per XKS encrypt: C_GenerateRandom(12) IV, CKM_AES_GCM (96-bit IV, 128-bit tag, {Pkcs11Ceiling.AadBytes}-byte AAD = XKS AAD of a 32-byte AAD and 5-byte metadata), C_EncryptInit + C_Encrypt of 32 bytes, through Pkcs11Interop 5.3.0; key AES-256 sensitive, non-extractable, generated for the bench (token object like Coffer's keys; the session-key row is for comparison); its 'server' CPU is that process, 'client' the idle bench. SoftHSM2 serializes its calls (the raw rate does not grow with threads and stays near 1 core), so a raw row leaves a core free and on a shared machine other processes take it: a raw row's 'other processes' is that core, not a sign the raw row was slowed");
        sb.AppendLine(Inv, $"- Coffer: {(o.CofferVersion is null ? "" : $"{o.CofferVersion}, ")}`coffer dev --pkcs11` (SQLite, dev seal, plain HTTP on loopback, default log level), signed XKS requests from the raw-socket HTTP/1.1 client, {o.PoolSize}+ distinct pre-signed requests per scenario; closed loop with {n} clients = {n} connections");
        sb.AppendLine(Inv, $"- warmup {o.Warmup.TotalSeconds:0} s, measured {o.Duration.TotalSeconds:0} s per scenario; Kestrel ceiling and 'best' concurrency: best of {string.Join('/', o.Candidates)} in {o.Trial.TotalSeconds:0} s trials; server GC: {(serverGc ? "server" : "workstation")}");
        sb.AppendLine(Inv, $"- quietness: load average at the end {CpuSampler.LoadAverage()}; 'other processes' = CPU of everything but the measured server, the client and irq/softirq, hypervisor steal included");
        return sb.ToString();
    }

    /// <summary>What the goal asks of one call, against an estimate of what an audited call takes on this
    /// machine: in a closed loop of n clients, throughput = n / mean time per call (Little's law). An
    /// audited call does what the software path without the audit log does, then waits for its record's
    /// fsync, which cannot start before the record exists. An estimate, not a proof: the audit-off run
    /// keeps both CPUs busier than an audited one does, so its time per call may be more than an
    /// audited call's share of it.</summary>
    private static void AppendBound(StringBuilder sb, int n, double rawMedian, DiskFlush.Result? flush, Measured? path)
    {
        if (flush is not { } f || path is null || rawMedian <= 0) return;
        var target = 0.6 * rawMedian;
        var budget = n / target * 1000;
        var pathMs = n / path.Result.Rps * 1000;
        var estimate = pathMs + f.MeanMs;
        var most = n / estimate * 1000;
        sb.AppendLine("Where the time of a call goes (from this run's numbers):");
        sb.AppendLine(Inv, $"- 60 % of raw @{n} (median {rawMedian:#,0}) is {target:#,0} req/s: with {n} clients in a closed loop, a call may take {budget:0.000} ms on average (Little's law)");
        sb.AppendLine(Inv, $"- Coffer's XKS path alone (software backend, audit off, @{n}): {path.Result.Rps:#,0} req/s = {path.Result.Rps / rawMedian:P0} of raw, {pathMs:0.000} ms per call");
        sb.AppendLine(Inv, $"- this disk's flush (4 KiB write + fsync into allocated blocks, {f.Count} times, on the data directory's filesystem, before the load): mean {f.MeanMs:0.000} ms, p50 {f.P50Ms:0.000} ms, p90 {f.P90Ms:0.000} ms; an audited call waits for at least one, which starts only once its record is written");
        sb.AppendLine(Inv, $"- an audited call with no HSM cost at all would take about {estimate:0.000} ms: about {most:#,0} req/s = {most / rawMedian:P0} of raw (an estimate: the audit-off run keeps the CPUs busier than an audited one)");
        sb.AppendLine();
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count == 0 ? 0 : v.Count % 2 == 1 ? v[v.Count / 2] : (v[(v.Count / 2) - 1] + v[v.Count / 2]) / 2;
    }

    public static string Line(Measured m, RunResult? ceiling)
    {
        var r = m.Result;
        var sb = new StringBuilder();
        sb.Append(Inv, $"{(m.IsCeiling || m.IsRaw ? "" : m.ServerName + " ")}{r.Scenario}{(m.Run > 0 ? $" [run {m.Run}]" : "")}: ");
        sb.Append(r.TargetRate is { } rate ? string.Create(Inv, $"target {rate:0}/s, achieved ") : string.Create(Inv, $"c={r.Concurrency}, "));
        sb.Append(Inv, $"{r.Rps:#,0} req/s over {r.Seconds:0} s, p50 {Ms(r.Latency.PercentileNs(0.5))}, p90 {Ms(r.Latency.PercentileNs(0.9))}, ");
        sb.Append(Inv, $"p99 {Ms(r.Latency.PercentileNs(0.99))}, p99.9 {Ms(r.Latency.PercentileNs(0.999))}, max {Ms(r.Latency.MaxNs)}");
        if (r.ServiceTime is { } s) sb.Append(Inv, $" (from actual send: p99 {Ms(s.PercentileNs(0.99))})");
        if (ceiling is not null && !m.IsCeiling && r.TargetRate is null) sb.Append(Inv, $", {r.Rps / ceiling.Rps:P0} of ceiling");
        sb.Append(Inv, $"; CPU cores: server {m.Cpu.Server:0.00}, client {m.Cpu.Client:0.00}, irq/softirq {m.Cpu.Irq:0.00}, other processes {m.Cpu.Other:0.00}, idle {m.Cpu.Idle:0.00}");
        foreach (var (side, cores) in m.Side ?? []) sb.Append(Inv, $", {side} {cores:0.00}");
        sb.Append(Inv, $"; errors {r.Errors}");
        if (m.Note is { } note) sb.Append("; " + note);
        if (r.FirstError is { } e) sb.Append(Inv, $"; first error: {e.ReplaceLineEndings(" ")}");
        return sb.ToString();
    }

    internal static string Ms(long ns) => (ns / 1e6).ToString("0.00", Inv) + " ms";

    internal static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown CPU";
}
