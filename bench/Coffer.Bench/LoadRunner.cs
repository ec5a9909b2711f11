using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Coffer.Bench;

public sealed record RunResult(
    string Scenario, int Concurrency, double? TargetRate, long Ok, long Errors, double Seconds,
    Histogram Latency, Histogram? ServiceTime, string? FirstError)
{
    public double Rps => Ok / Seconds;
}

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
    /// omission). Latency runs from that scheduled instant, so queueing in the client counts too.</summary>
    public static async Task<RunResult> OpenLoopAsync(
        string scenario, IClientFactory factory, PreparedRequest[] pool, double rate, int connections,
        TimeSpan warmup, TimeSpan duration)
    {
        var freq = Stopwatch.Frequency;
        var total = (long)((warmup + duration).TotalSeconds * rate);
        var queue = Channel.CreateUnbounded<(long Index, long Due)>(new UnboundedChannelOptions { SingleWriter = true });
        var start = Stopwatch.GetTimestamp() + (freq / 10);
        var from = start + Ticks(warmup);
        var to = from + Ticks(duration);
        using var hard = new CancellationTokenSource(warmup + duration + Drain + TimeSpan.FromSeconds(1));
        var errorBox = new ErrorBox();

        // Dedicated thread with microsecond sleeps: Thread.Sleep(1) would batch sends every ~1.1 ms.
        var dispatcher = new Thread(() =>
        {
            for (long k = 0; k < total && !hard.IsCancellationRequested; k++)
            {
                var due = start + (long)(k * freq / rate);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0) _ = USleep((uint)Math.Max(1, Ns(wait) / 1000));
                queue.Writer.TryWrite((k, due));
            }
            queue.Writer.Complete();
        }) { IsBackground = true, Name = "open-loop dispatcher", Priority = ThreadPriority.AboveNormal };
        dispatcher.Start();

        var workers = Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            using var conn = factory.Open();
            var latency = new Histogram();
            var service = new Histogram();
            long errors = 0;
            try
            {
                await foreach (var (k, due) in queue.Reader.ReadAllAsync(hard.Token))
                {
                    var t0 = Stopwatch.GetTimestamp();
                    // The pool is walked by schedule index; at fixed rate a slot is reused only after
                    // pool.Length / rate seconds, long after its previous use finished.
                    var ok = await SendOneAsync(conn, pool[k % pool.Length], errorBox, hard.Token);
                    var t1 = Stopwatch.GetTimestamp();
                    if (!ok) errors++;
                    else if (due >= from && due < to) { latency.Record(Ns(t1 - due)); service.Record(Ns(t1 - t0)); }
                }
            }
            catch (OperationCanceledException) { }
            return (latency, service, errors);
        })).ToArray();

        var done = await Task.WhenAll(workers);
        dispatcher.Join(TimeSpan.FromSeconds(5));
        var all = new Histogram();
        var svc = new Histogram();
        foreach (var d in done) { all.Add(d.latency); svc.Add(d.service); }
        var measuredDue = (long)(duration.TotalSeconds * rate);
        // Requests due in the window that never completed OK (dropped at the deadline) are errors too.
        var errors = done.Sum(d => d.errors) + Math.Max(0, measuredDue - all.Count - done.Sum(d => d.errors));
        return new RunResult(scenario, connections, rate, all.Count, errors, duration.TotalSeconds, all, svc, errorBox.First);
    }

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
