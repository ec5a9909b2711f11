using System.Globalization;
using System.Text.Json;

namespace Coffer.Bench;

/// <summary>A closed-loop scenario against an XKS server (Orchestrator's local function, passed in).</summary>
public delegate Task<Measured> ClosedScenario(string name, XksTarget t, int pid, string path, List<byte[]> bodies, int c,
    TimeSpan warmup, TimeSpan duration, bool isCeiling, string? auditedData = null);

/// <summary>Loads a freshly started server until its JIT has settled (Orchestrator's local function, passed in).</summary>
public delegate Task SettleServer(string name, XksTarget t, int pid, string path, List<byte[]> bodies, int c);

public static partial class Orchestrator
{
    /// <summary>How the report tells the audit-off rows (<see cref="Unaudited"/>) from the shipped ones.</summary>
    public const string AuditOff = "audit off (benchmark-only switch)";

    /// <summary>`--backend pkcs11`: the raw PKCS#11 ceiling and Coffer (`coffer dev --pkcs11`) on the same
    /// SoftHSM2 token in the same run. The headline pair — raw AES-GCM with N threads, then Coffer
    /// encrypt with N clients — is repeated --repeat times back to back, so the report shows the run to
    /// run spread of both and of their ratio. Returns this disk's flush time, measured first on the
    /// data directory's filesystem (the floor under every audited call's wait).</summary>
    private static async Task<DiskFlush.Result> Pkcs11ScenariosAsync(Options o, ChildProcesses children, string work, XksTarget target, string data,
        int cofferPid, string? serverCpus, string self, string parent, string serverName,
        string encPath, string decPath, List<byte[]> enc32, List<byte[]> dec32, int pool, int cCeil, int cCoffer,
        XksTarget ceilingTarget, int ceilingPid, ClosedScenario closed, SettleServer settle, List<Measured> results,
        Func<Task<(int Pid, XksTarget Target)>> restartUnaudited, Func<bool, Task<(int Pid, XksTarget Target)>> startSoftwareCoffer)
    {
        var on = o.Scenarios;
        var n = o.HsmConcurrency;
        var conf = Path.Combine(data, "softhsm", "softhsm2.conf");
        var pinFile = Path.Combine(data, "pkcs11.pin");
        using (var dev = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(data, "dev.json"))))
        {
            var backend = dev.RootElement.TryGetProperty("backend", out var b) ? b.GetString() : null;
            if (backend != "pkcs11" || !File.Exists(conf) || !File.Exists(pinFile))
                throw new BenchException($"`coffer dev --pkcs11` did not make a SoftHSM2 token (dev.json backend '{backend}', {conf} {(File.Exists(conf) ? "present" : "missing")})");
        }
        Log($"SoftHSM2 token 'coffer-dev' of {serverName}: SOFTHSM2_CONF={conf}; raw ceiling: {n} threads, own session each");
        var flush = DiskFlush.Measure(data);
        Log(string.Create(CultureInfo.InvariantCulture, $"disk flush (4 KiB write + fsync, {flush.Count} times, in {data}): mean {flush.MeanMs:0.000} ms, p50 {flush.P50Ms:0.000} ms, p90 {flush.P90Ms:0.000} ms"));

        async Task<Measured> Raw(string key, int run)
        {
            var tag = $"{key}-{run}";
            var outFile = Path.Combine(work, $"pkcs11-{tag}.json");
            var log = Path.Combine(work, $"pkcs11-{tag}.log");
            var s = (TimeSpan t) => t.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            var p = children.Start("pkcs11 ceiling", serverCpus, log,
                ["dotnet", self, "pkcs11-ceiling", "--module", o.HsmModule, "--label", "coffer-dev", "--pin-file", pinFile,
                 "--threads", n.ToString(CultureInfo.InvariantCulture), "--key", key, "--warmup", s(o.Warmup), "--duration", s(o.Duration),
                 "--out", outFile, "--parent", parent],
                new Dictionary<string, string> { ["SOFTHSM2_CONF"] = conf });
            using (var limit = new CancellationTokenSource(o.Warmup + o.Duration + TimeSpan.FromSeconds(60)))
            {
                try { await p.WaitForExitAsync(limit.Token); }
                catch (OperationCanceledException) { }
            }
            var exited = p.HasExited;
            children.Stop(p);
            if (!exited || !File.Exists(outFile))
                throw new BenchException($"raw PKCS#11 ceiling ({tag}) {(exited ? "wrote no result" : "did not finish in time")}:\n{ChildProcesses.Tail(log)}");
            var r = JsonSerializer.Deserialize<Pkcs11Ceiling.Result>(await File.ReadAllTextAsync(outFile))!;
            var name = $"raw PKCS#11 AES-GCM encrypt, {(key == "token" ? "token key (as Coffer's)" : "session key")}";
            var result = new RunResult(name, r.Threads, null, r.Ok, r.Errors, r.Seconds, Histogram.FromSparse(r.Histogram), null, r.FirstError);
            var m = new Measured(result, (r.CpuSelf, r.CpuParent, r.CpuIrq, r.CpuOther, r.CpuIdle), false, "raw PKCS#11", IsRaw: true, Run: run);
            Log(Report.Line(m, null) + (o.Repeat > 1 && key == "token" ? $" [run {run}/{o.Repeat}]" : ""));
            return m;
        }

        if (on.Contains("ceiling")) results.Add(await closed("ceiling (bare Kestrel)", ceilingTarget, ceilingPid, encPath, enc32, cCeil, o.Warmup, o.Duration, true));
        for (var run = 1; run <= o.Repeat; run++)
        {
            results.Add(await Raw("token", run));
            if (on.Contains("encrypt"))
                results.Add(await closed($"encrypt 32 B @{n}", target, cofferPid, encPath, enc32, n, o.Warmup, o.Duration, false, data) with { Run = run });
        }
        if (o.HsmSessionKeyRow) results.Add(await Raw("session", 1));
        if (on.Contains("decrypt")) results.Add(await closed($"decrypt 32 B @{n}", target, cofferPid, decPath, dec32, n, o.Warmup, o.Duration, false));
        if (on.Contains("cdiv"))
        {
            var cdiv = Bodies(pool, () => XksRequests.EncryptBody(32, cdiv: true));
            results.Add(await closed($"encrypt 32 B + SHA_256 CDIV @{n} (verifying decrypt: 2 HSM calls)", target, cofferPid, encPath, cdiv, n, o.Warmup, o.Duration, false));
        }
        if (on.Contains("best"))
            results.Add(await closed($"encrypt 32 B @{cCoffer} (best of {string.Join('/', o.Candidates)})", target, cofferPid, encPath, enc32, cCoffer, o.Warmup, o.Duration, false));
        if (on.Contains("open"))
        {
            // An open loop above what the token can do only measures a growing queue: cap it at 80 % of raw.
            var raw = results.Where(m => m.IsRaw && m.Result.Scenario.Contains("token", StringComparison.Ordinal)).Max(m => m.Result.Rps);
            var rate = Math.Min(o.Rate, Math.Floor(raw * 0.8));
            if (rate < o.Rate) Log($"open loop at {rate:0}/s instead of {o.Rate:0}/s: the token does {raw:0}/s at most");
            var signed = XksRequests.SignPool(target, encPath, enc32);
            using var factory = Clients.Create(o.Client, o.OpenConnections);
            var cpu = new CpuSampler(cofferPid);
            var r = await LoadRunner.OpenLoopAsync("encrypt 32 B open loop", factory, signed, rate, o.OpenConnections, o.Warmup, o.Duration);
            var m = new Measured(r, cpu.Stop(), false, serverName);
            Log(Report.Line(m, null));
            results.Add(m);
        }
        if (on.Contains("unaudited"))
        {
            // The HSM path alone: Coffer with the audit log off (the benchmark-only switch) on the same
            // token and key, as many runs as the headline pairs, each against the raw run of its pair.
            var (pid, bare) = await restartUnaudited();
            await settle(AuditOff, bare, pid, encPath, enc32, n); // a fresh process
            for (var run = 1; run <= o.Repeat; run++)
            {
                results.Add(await closed($"encrypt 32 B @{n}, {AuditOff}", bare, pid, encPath, enc32, n,
                    o.Warmup, o.Duration, false) with { Run = run });
            }
        }
        if (on.Contains("software"))
        {
            // Last, because it stops the HSM-backed server: what Coffer does at the same concurrency
            // without the HSM, i.e. how much of the gap is HTTP + SigV4 + JSON on this machine.
            var (pid, sw) = await startSoftwareCoffer(true);
            var swPath = sw.PathOf($"keys/{sw.KeyId}/encrypt");
            await settle("software backend", sw, pid, swPath, enc32, n); // fresh processes, both
            results.Add(await closed($"encrypt 32 B @{n}, software backend (diagnosis, no HSM)", sw, pid, swPath, enc32, n, o.Warmup, o.Duration, false));
            // And without the audit log: Coffer's HTTP + SigV4 + JSON path alone, the least any call takes.
            (pid, sw) = await startSoftwareCoffer(false);
            swPath = sw.PathOf($"keys/{sw.KeyId}/encrypt");
            await settle($"software backend, {AuditOff}", sw, pid, swPath, enc32, n);
            results.Add(await closed($"encrypt 32 B @{n}, software backend, {AuditOff} (diagnosis)", sw, pid, swPath, enc32, n, o.Warmup, o.Duration, false));
        }

        return flush;
    }
}
