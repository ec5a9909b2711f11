using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace Coffer.Bench;

/// <summary>A finished scenario with the CPU it took (cores) and what it is compared against.</summary>
public sealed record Measured(RunResult Result, (double Server, double Client, double Irq, double Other, double Idle) Cpu, bool IsCeiling, string ServerName,
    bool IsRaw = false, int Run = 0, string? Note = null,   // IsRaw: the raw PKCS#11 ceiling (server = the pkcs11-ceiling process); Run: repetition 1..N
    IReadOnlyList<(string Name, double Cores)>? Side = null); // cluster rows: PostgreSQL and HAProxy, measured apart from the nodes

/// <summary>Runs the whole comparison: starts the ceiling and Coffer, prepares signed request pools,
/// picks the concurrency, runs every scenario and writes the report.</summary>
public static partial class Orchestrator
{
    public static async Task<int> RunAsync(Options o)
    {
        using var children = new ChildProcesses();
        var work = Directory.CreateTempSubdirectory("coffer-bench-");
        children.OnInterrupted = () => work.Delete(recursive: true);
        try
        {
            return await RunInsideAsync(o, children, work.FullName);
        }
        catch (BenchException e)
        {
            Console.Error.WriteLine($"bench failed: {e.Message}");
            return 1;
        }
        finally
        {
            children.Dispose();
            try { work.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<int> RunInsideAsync(Options o, ChildProcesses children, string work)
    {
        var serverCpus = o.Pin == "split" ? "0" : null;
        var self = typeof(Orchestrator).Assembly.Location;
        var parent = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var serverGc = o.Fake || ChildProcesses.UsesServerGc(o.CofferDll!);
        Log($"client: {Clients.Create(o.Client, 1).Name}, affinity {CpuSampler.Affinity()}; servers pinned to {serverCpus ?? "(none)"}; load {CpuSampler.LoadAverage()}");

        // The ceiling gets Coffer's GC mode so the two servers differ only in what they do per request.
        var ceilingPort = ChildProcesses.FreePort();
        var ceiling = children.Start("ceiling", serverCpus, Path.Combine(work, "ceiling.log"),
            ["dotnet", self, "ceiling", "--port", ceilingPort.ToString(CultureInfo.InvariantCulture), "--parent", parent],
            new Dictionary<string, string> { ["DOTNET_gcServer"] = serverGc ? "1" : "0" });

        var serverName = o.Fake ? "FAKE (dev only)" : "Coffer";
        (System.Diagnostics.Process Process, string Data, string Log) StartCoffer(string tag, IEnumerable<string> extra, bool hsm = true, Dictionary<string, string>? env = null, string? dataOf = null)
        {
            var data = Directory.CreateDirectory(Path.Combine(work, "data-" + (dataOf ?? tag))).FullName;
            var xksPort = ChildProcesses.FreePort().ToString(CultureInfo.InvariantCulture);
            var log = Path.Combine(work, $"coffer-{tag}.log");
            var p = o.Fake
                ? children.Start("fake-xks", serverCpus, log, ["dotnet", self, "fake-xks", "--port", xksPort, "--data", data, "--parent", parent])
                : children.Start("coffer dev", serverCpus, log,
                    ["dotnet", o.CofferDll!, "dev", "--data", data, "--xks-port", xksPort,
                     "--admin-port", ChildProcesses.FreePort().ToString(CultureInfo.InvariantCulture),
                     .. (o.Backend == "pkcs11" && hsm ? ["--pkcs11"] : Array.Empty<string>()), .. o.CofferArgs, .. extra], env);
            return (p, data, log);
        }
        var (coffer, data, cofferLog) = StartCoffer("main", []);

        var target = await DevInfo.WaitAsync(data, coffer, cofferLog);
        var ceilingTarget = target with { BaseUrl = new Uri($"http://127.0.0.1:{ceilingPort}{target.BaseUrl.AbsolutePath}") };
        await DevInfo.WaitForCeilingAsync(ceilingTarget, ceiling, Path.Combine(work, "ceiling.log"));
        Log($"{serverName} at {target.BaseUrl} (key {target.KeyId}), ceiling at {ceilingTarget.BaseUrl}; server GC {(serverGc ? "server" : "workstation")}");

        var encPath = target.PathOf($"keys/{target.KeyId}/encrypt");
        var decPath = target.PathOf($"keys/{target.KeyId}/decrypt");
        var pool = Math.Max(o.PoolSize, Math.Max(o.Concurrency ?? 0, o.Candidates.Max()));
        var enc32 = Bodies(pool, () => XksRequests.EncryptBody(32, cdiv: false));
        var dec32 = await DevInfo.MakeDecryptBodiesAsync(target, encPath, decPath, enc32);
        Log($"pool: {pool} distinct requests per scenario (own kmsRequestId, random plaintext and AAD), signed with AWSSDK AWS4Signer " +
            "right before each scenario and replayed (the 5-minute skew window covers a scenario)");

        var results = new List<Measured>();
        async Task<Measured> Closed(string name, XksTarget t, int pid, string path, List<byte[]> bodies, int c,
            TimeSpan warmup, TimeSpan duration, bool isCeiling, string? auditedData = null)
        {
            var batches = auditedData is null ? null : await AuditBatches.ReadAsync(auditedData);
            var m = await MeasureClosedAsync(o, name, t, () => new CpuSampler(pid), path, bodies, c, warmup, duration, isCeiling, serverName);
            if (auditedData is not null) m = m with { Note = AuditBatches.Describe(batches, await AuditBatches.ReadAsync(auditedData)) };
            Log(Report.Line(m, null));
            return m;
        }

        // A fresh `coffer dev` is loaded until its JIT has settled before its first measurement.
        async Task SettleAsync(string name, XksTarget t, int pid, string path, List<byte[]> bodies, int c)
        {
            var signed = XksRequests.SignPool(t, path, bodies);
            using var factory = Clients.Create(o.Client, c);
            var (took, settled) = await JitSettle.RunAsync(pid, step => LoadRunner.ClosedLoopAsync("settle", factory, signed, c, TimeSpan.Zero, step));
            Log(settled ? $"{name}: JIT settled after {took.TotalSeconds:0} s of load" : $"{name}: JIT still compiling after {took.TotalSeconds:0} s of load; measuring anyway");
        }

        if (o.Cluster)
        {
            var cluster = await ClusterScenariosAsync(o, children, work, target, coffer, ceilingTarget, ceiling.Id, encPath, enc32);
            var report = ClusterReport.Build(o, cluster);
            // The failover row's errors are what it measures: only the other rows decide the exit code.
            return await WriteReportAsync(o, report, cluster.Rows);
        }

        // Concurrency: the best of the candidates, chosen separately for the ceiling and for Coffer
        // (each gets its own best shot), unless --concurrency fixes it.
        int cCeil, cCoffer;
        if (o.Concurrency is { } fixedC)
        {
            cCeil = cCoffer = fixedC;
            if (o.Backend != "pkcs11")
            {
                await SettleAsync("ceiling", ceilingTarget, ceiling.Id, encPath, enc32, fixedC);
                await SettleAsync(serverName, target, coffer.Id, encPath, enc32, fixedC);
            }
        }
        else
        {
            Log($"choosing concurrency from {string.Join('/', o.Candidates)} with {o.Trial.TotalSeconds:0}s trials");
            var trials = new List<Measured>();
            foreach (var c in o.Candidates)
            {
                trials.Add(await Closed($"trial ceiling c={c}", ceilingTarget, ceiling.Id, encPath, enc32, c, TimeSpan.FromSeconds(1), o.Trial, true));
                trials.Add(await Closed($"trial encrypt c={c}", target, coffer.Id, encPath, enc32, c, TimeSpan.FromSeconds(1), o.Trial, false));
            }
            cCeil = trials.Where(t => t.IsCeiling).MaxBy(t => t.Result.Rps)!.Result.Concurrency;
            cCoffer = trials.Where(t => !t.IsCeiling).MaxBy(t => t.Result.Rps)!.Result.Concurrency;
            Log($"chosen: ceiling c={cCeil}, {serverName} c={cCoffer}");
        }

        var on = o.Scenarios;
        if (o.Backend == "pkcs11")
        {
            var running = coffer; // one Coffer at a time: each restart below stops the one before
            var flush = await Pkcs11ScenariosAsync(o, children, work, target, data, coffer.Id, serverCpus, self, parent, serverName,
                encPath, decPath, enc32, dec32, pool, cCeil, cCoffer, ceilingTarget, ceiling.Id, new ClosedScenario(Closed), new SettleServer(SettleAsync), results,
                async () =>
                {
                    // The HSM path without the audit log's cost: `coffer dev` again on the same data
                    // directory (so the same token and key), with auditing off.
                    children.Stop(running);
                    var devJson = Path.Combine(data, "dev.json");
                    var written = File.GetLastWriteTimeUtc(devJson);
                    var (bare, _, bareLog) = StartCoffer("unaudited", [], env: Unaudited, dataOf: "main");
                    running = bare;
                    // dev.json names the old ports until the new process rewrites it.
                    for (var waited = 0; File.GetLastWriteTimeUtc(devJson) == written && !bare.HasExited && waited < 1800; waited++) await Task.Delay(100);
                    return (bare.Id, await DevInfo.WaitAsync(data, bare, bareLog));
                },
                async audited =>
                {
                    // Diagnosis: the same encrypt on a software-backend `coffer dev` (no HSM), with or
                    // without the audit log, the one before stopped.
                    children.Stop(running);
                    var (sw, swData, swLog) = StartCoffer(audited ? "software" : "software-unaudited", [], hsm: false, env: audited ? null : Unaudited);
                    running = sw;
                    return (sw.Id, await DevInfo.WaitAsync(swData, sw, swLog));
                });
            return await FinishAsync(o, results, serverGc, serverName, null, flush);
        }
        results.Add(await Closed("ceiling (bare Kestrel)", ceilingTarget, ceiling.Id, encPath, enc32, cCeil, o.Warmup, o.Duration, true));
        (string Line, double? Rps)? wrk = null;
        if (o.Wrk)
        {
            wrk = await WrkCheck.RunAsync(XksRequests.SignPool(ceilingTarget, encPath, enc32)[0], cCeil, o.Duration, work);
            Log(wrk.Value.Line);
        }
        if (on.Contains("encrypt")) results.Add(await Closed(EncryptScenario, target, coffer.Id, encPath, enc32, cCoffer, o.Warmup, o.Duration, false, data));
        if (on.Contains("decrypt")) results.Add(await Closed("decrypt 32 B", target, coffer.Id, decPath, dec32, cCoffer, o.Warmup, o.Duration, false));
        if (on.Contains("rules100") && !o.Fake)
        {
            // The same encrypt with 100 non-matching access rules, then an allow, on the key store.
            await AccessRules100.ApplyAsync(data);
            results.Add(await Closed(Rules100Scenario, target, coffer.Id, encPath, enc32, cCoffer, o.Warmup, o.Duration, false));
            await AccessRules100.ClearAsync(data);
        }
        async Task<Measured> Open(string name, TimeSpan duration)
        {
            var signed = XksRequests.SignPool(target, encPath, enc32);
            using var factory = Clients.Create(o.Client, o.OpenConnections);
            var cpu = new CpuSampler(coffer.Id);
            var r = await LoadRunner.OpenLoopAsync(name, factory, signed, o.Rate, o.OpenConnections, o.Warmup, duration);
            var m = new Measured(r, cpu.Stop(), false, serverName);
            Log(Report.Line(m, null));
            return m;
        }
        if (on.Contains("open")) results.Add(await Open("encrypt 32 B open loop", o.Duration));
        AnonymousFlood.Result? floodAlone = null;
        if (on.Contains("flood") && !o.Fake)
        {
            // docs/security.md: what an anonymous caller costs. The flood alone first, for the
            // database's growth (measured after the server's next audit interval has written its counts);
            // then the signed calls at --rate without it and next to it, back to back.
            floodAlone = await AnonymousFlood.RunAsync(data, AnonymousFlood.Requests(target, encPath, enc32[0]), o.FloodConnections,
                o.FloodDuration, settle: TimeSpan.FromSeconds(61));
            Log(floodAlone.Describe());
            results.Add(await Open(AnonymousFlood.QuietScenario, o.FloodDuration));
            var flood = AnonymousFlood.RunAsync(data, AnonymousFlood.Requests(target, encPath, enc32[0]), o.FloodConnections,
                o.Warmup + o.FloodDuration + TimeSpan.FromSeconds(1), settle: TimeSpan.Zero);
            var loud = await Open(AnonymousFlood.FloodScenario, o.FloodDuration);
            var during = await flood;
            Log(during.Describe());
            results.Add(loud with { Note = during.Describe() });
        }
        if (on.Contains("cdiv"))
        {
            var cdiv = Bodies(pool, () => XksRequests.EncryptBody(32, cdiv: true));
            results.Add(await Closed("encrypt 32 B + SHA_256 CDIV", target, coffer.Id, encPath, cdiv, cCoffer, o.Warmup, o.Duration, false));
        }
        if (on.Contains("4300"))
        {
            var big = Bodies(pool, () => XksRequests.EncryptBody(4300, cdiv: false));
            results.Add(await Closed("encrypt 4300 B", target, coffer.Id, encPath, big, cCoffer, o.Warmup, o.Duration, false));
        }
        if (on.Contains("unaudited") && !o.Fake)
        {
            // The cost of the audit log (the goal: within 25 %): the same encrypt with auditing off through
            // the benchmark-only switch, on a second, fresh `coffer dev`. The two then take turns,
            // --audit-pairs times, each measured while the other idles: this machine's rate drifts by more
            // than the effect from one minute to the next (the audit-off server alone by ±15 %), so each
            // ratio compares two runs seconds apart and the goal is judged on their median.
            var (bare, bareData, bareLog) = StartCoffer("unaudited", [], env: Unaudited);
            var bareTarget = await DevInfo.WaitAsync(bareData, bare, bareLog);
            var barePath = bareTarget.PathOf($"keys/{bareTarget.KeyId}/encrypt");
            await SettleAsync("audit off", bareTarget, bare.Id, barePath, enc32, cCoffer);
            for (var pair = 1; pair <= o.AuditPairs; pair++)
            {
                results.Add(await Closed(UnauditedScenario, bareTarget, bare.Id, barePath, enc32, cCoffer, o.Warmup, o.Duration, false) with { Run = pair });
                results.Add(await Closed(EncryptScenario, target, coffer.Id, encPath, enc32, cCoffer, o.Warmup, o.Duration, false, data) with { Run = pair });
            }
            children.Stop(bare);
        }

        if (on.Contains("quietlog") && !o.Fake)
        {
            // Diagnosis, not the headline: the same encrypt with the per-call log line switched off, on a
            // fresh `coffer dev` (the first one is stopped so it cannot take CPU).
            children.Stop(coffer);
            var (quiet, quietData, quietLog) = StartCoffer("quietlog", ["--log-level", "Warning"]);
            var quietTarget = await DevInfo.WaitAsync(quietData, quiet, quietLog);
            var quietPath = quietTarget.PathOf($"keys/{quietTarget.KeyId}/encrypt");
            await SettleAsync("--log-level Warning", quietTarget, quiet.Id, quietPath, enc32, cCoffer);
            results.Add(await Closed("encrypt 32 B, --log-level Warning (diagnosis)", quietTarget, quiet.Id,
                quietPath, enc32, cCoffer, o.Warmup, o.Duration, false));
        }

        return await FinishAsync(o, results, serverGc, serverName, wrk, floodAlone: floodAlone);
    }

    /// <summary>One closed-loop scenario: the pool signed now, <paramref name="c"/> workers, the CPU of
    /// what <paramref name="sampler"/> watches (made right before the load starts).</summary>
    private static async Task<Measured> MeasureClosedAsync(Options o, string name, XksTarget t, Func<CpuSampler> sampler, string path,
        List<byte[]> bodies, int c, TimeSpan warmup, TimeSpan duration, bool isCeiling, string serverName)
    {
        var signed = XksRequests.SignPool(t, path, bodies);
        using var factory = Clients.Create(o.Client, c);
        var cpu = sampler();
        var r = await LoadRunner.ClosedLoopAsync(name, factory, signed, c, warmup, duration);
        var cores = cpu.Stop();
        return new Measured(r, cores, isCeiling, isCeiling ? "ceiling" : serverName, Side: cpu.Side.Count > 0 ? cpu.Side : null);
    }

    public const string EncryptScenario = "encrypt 32 B";

    public const string Rules100Scenario = "encrypt 32 B, 100 access rules";

    public const string UnauditedScenario = "encrypt 32 B, audit off (benchmark-only switch)";

    /// <summary>`coffer dev`'s benchmark-only switch (src/Coffer.Server/Audit/AuditLog.cs): no audit records.</summary>
    private static Dictionary<string, string> Unaudited => new() { ["COFFER_BENCHMARK_UNAUDITED"] = "1" };

    private static async Task<int> FinishAsync(Options o, List<Measured> results, bool serverGc, string serverName, (string Line, double? Rps)? wrk,
        DiskFlush.Result? flush = null, AnonymousFlood.Result? floodAlone = null)
    {
        var report = o.Backend == "pkcs11" ? Report.BuildPkcs11(o, results, serverGc, flush) : Report.Build(o, results, serverGc, serverName, wrk, floodAlone);
        return await WriteReportAsync(o, report, results);
    }

    private static async Task<int> WriteReportAsync(Options o, string report, IReadOnlyList<Measured> results)
    {
        Console.WriteLine();
        Console.WriteLine(report);
        if (o.Out is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(o.Out)!);
            await File.WriteAllTextAsync(o.Out, report);
            Log($"written to {o.Out}");
        }
        return results.Any(m => m.Result.Errors > 0) ? 3 : 0;
    }

    private static List<byte[]> Bodies(int n, Func<byte[]> make) => [.. Enumerable.Range(0, n).Select(_ => make())];

    public static void Log(string message) =>
        Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");
}

public sealed class BenchException(string message) : Exception(message);
