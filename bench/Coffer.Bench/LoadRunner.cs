using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Coffer.Bench;

public sealed record RunResult(
    string Scenario, int Concurrency, double? TargetRate, long Ok, long Errors, double Seconds,
    Histogram Latency, Histogram? ServiceTime, string? FirstError, DisruptionOutcome? Disrupted = null)
{
    public double Rps => Ok / Seconds;
}

/// <summary>Something done to the servers partway through an open-loop run, <see cref="After"/> the
/// start of the measured window (the failover row kills a node). It runs off the dispatcher thread.</summary>
public sealed record Disruption(TimeSpan After, Action Act);

/// <summary>What an open-loop run saw around its <see cref="Disruption"/>: the requests sent and not yet
/// answered at that instant, those due but still queued in the client for a free connection, and when
/// the first and the last failed request ended, relative to it.</summary>
public sealed record DisruptionOutcome(int InFlight, int Queued, TimeSpan? FirstError, TimeSpan? LastError);

/// <summary>Closed-loop and open-loop drivers. Everything is bounded: by time (warmup + duration +
/// a drain deadline) and by a per-worker request cap.</summary>
public static partial class LoadRunner
{
    private const long MaxRequestsPerWorker = 50_000_000;
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(10);

    private static long Ticks(TimeSpan t) => (long)(t.TotalSeconds * Stopwatch.Frequency);
    private static long Ns(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));

    /// <summary>C workers, each on its own connection, send back-to-back from disjoint slices of the pool.
    /// Counts responses that complete inside the measured window (after warmup).</summary>
    public static async Task<RunResult> ClosedLoopAsync(
        string scenario, IClientFactory factory, PreparedRequest[] pool, int concurrency, TimeSpan warmup, TimeSpan duration)
    {
        if (pool.Length < concurrency) throw new ArgumentException("pool smaller than concurrency");
        var start = Stopwatch.GetTimestamp();
        var from = start + Ticks(warmup);
        var to = from + Ticks(duration);
        using var hard = new CancellationTokenSource(warmup + duration + Drain);
        var errorBox = new ErrorBox();

        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            using var conn = factory.Open();
            var h = new Histogram();
            long errors = 0;
            var i = w;
            for (long n = 0; n < MaxRequestsPerWorker; n++)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= to) break;
                var ok = await SendOneAsync(conn, pool[i], errorBox, hard.Token);
                var t1 = Stopwatch.GetTimestamp();
                if (!ok) { errors++; await Task.Delay(5); }       // a failing target must not spin
                else if (t0 >= from && t1 <= to) h.Record(Ns(t1 - t0));
                i += concurrency;
                if (i >= pool.Length) i = w;
            }
            return (h, errors);
        })).ToArray();

        var done = await Task.WhenAll(workers);
        var all = new Histogram();
        foreach (var (h, _) in done) all.Add(h);
        return new RunResult(scenario, concurrency, null, all.Count, done.Sum(d => d.errors),
            duration.TotalSeconds, all, null, errorBox.First);
    }

    /// <summary>Open loop: request k is due at start + k/rate, whatever happened before (no coordinated
    /// omission). Latency runs from that scheduled instant, so queueing in the client counts too. The
    /// dispatcher thread starts each send itself on an idle connection (no thread hop); when all
    /// connections are busy the request waits in a queue, its clock already running.</summary>
    public static async Task<RunResult> OpenLoopAsync(
        string scenario, IClientFactory factory, PreparedRequest[] pool, double rate, int connections,
        TimeSpan warmup, TimeSpan duration, Disruption? disruption = null)
    {
        var freq = Stopwatch.Frequency;
        var total = (long)((warmup + duration).TotalSeconds * rate);
        var start = Stopwatch.GetTimestamp() + (freq / 10);
        var from = start + Ticks(warmup);
        var to = from + Ticks(duration);
        using var hard = new CancellationTokenSource(warmup + duration + Drain);
        var box = new ErrorBox();
        var gate = new Lock();
        var idle = new Stack<IClientConnection>();
        var all = new List<IClientConnection>();
        var waiting = new Queue<(long K, long Due)>();
        var latency = new Histogram();
        var service = new Histogram();
        long errors = 0, finished = 0;
        long disruptedAt = 0, firstErrorAt = 0, lastErrorAt = 0;
        int inFlightAtDisruption = 0, queuedAtDisruption = 0;

        async Task RunAsync(IClientConnection conn, long k, long due)
        {
            while (true)
            {
                var t0 = Stopwatch.GetTimestamp();
                bool ok;
                try { ok = await SendOneAsync(conn, pool[k % pool.Length], box, hard.Token); }
                catch (OperationCanceledException) { ok = false; }
                var t1 = Stopwatch.GetTimestamp();
                lock (gate)
                {
                    finished++;
                    if (!ok)
                    {
                        errors++;
                        if (firstErrorAt == 0) firstErrorAt = t1;
                        lastErrorAt = t1;
                    }
                    else if (due >= from && due < to) { latency.Record(Ns(t1 - due)); service.Record(Ns(t1 - t0)); }
                    if (waiting.Count == 0 || hard.IsCancellationRequested) { idle.Push(conn); return; }
                    (k, due) = waiting.Dequeue();
                }
            }
        }

        // Dedicated thread with microsecond sleeps: Thread.Sleep(1) would batch sends every ~1.1 ms.
        var dispatcher = new Thread(() =>
        {
            for (long k = 0; k < total && !hard.IsCancellationRequested; k++)
            {
                var due = start + (long)(k * freq / rate);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0) _ = USleep((uint)Math.Max(1, Ns(wait) / 1000));
                if (disruption is not null && disruptedAt == 0 && due >= from + Ticks(disruption.After))
                {
                    lock (gate)
                    {
                        inFlightAtDisruption = all.Count - idle.Count;
                        queuedAtDisruption = waiting.Count;
                        disruptedAt = Stopwatch.GetTimestamp();
                    }
                    _ = Task.Run(disruption.Act);
                }
                IClientConnection? conn = null;
                lock (gate)
                {
                    if (idle.Count > 0) conn = idle.Pop();
                    else if (all.Count < connections) { conn = factory.Open(); all.Add(conn); }
                    else waiting.Enqueue((k, due));
                }
                if (conn is not null) _ = RunAsync(conn, k, due);
            }
        }) { IsBackground = true, Name = "open-loop dispatcher" };
        dispatcher.Start();
        while (dispatcher.IsAlive && !hard.IsCancellationRequested) await Task.Delay(50);
        // Drain: bounded by the hard deadline.
        while (Interlocked.Read(ref finished) < total && !hard.IsCancellationRequested) await Task.Delay(10);
        await hard.CancelAsync();
        await Task.Delay(100);
        lock (gate) { foreach (var c in all) c.Dispose(); }

        var measuredDue = (long)(duration.TotalSeconds * rate);
        // Requests due in the window that never completed OK (dropped at the deadline) are errors too.
        var errs = errors + Math.Max(0, measuredDue - latency.Count - errors);
        TimeSpan? Since(long at) => at == 0 || disruptedAt == 0 ? null : TimeSpan.FromSeconds((double)(at - disruptedAt) / freq);
        var outcome = disruption is null ? null : new DisruptionOutcome(inFlightAtDisruption, queuedAtDisruption, Since(firstErrorAt), Since(lastErrorAt));
        return new RunResult(scenario, connections, rate, latency.Count, errs, duration.TotalSeconds, latency, service, box.First, outcome);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> SendOneAsync(IClientConnection conn, PreparedRequest r, ErrorBox box, CancellationToken ct)
    {
        try
        {
            var status = await conn.SendAsync(r, ct);
            if (status == 200) return true;
            box.Set($"HTTP {status}: {conn.LastErrorBody}");
            return false;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            box.Set($"{e.GetType().Name}: {e.Message}");
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int USleep(uint microseconds);

    private sealed class ErrorBox
    {
        private string? _first;
        public string? First => _first;
        public void Set(string message) => Interlocked.CompareExchange(ref _first, message, null);
    }
}
