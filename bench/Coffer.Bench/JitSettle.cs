namespace Coffer.Bench;

/// <summary>
/// Load on a freshly started server until its JIT has settled, before anything is measured: under
/// this load a new `coffer dev` keeps its tier-up compiler busy for about 9 s (measured), so a fixed
/// few seconds of warmup measured it half-compiled.
/// </summary>
public static class JitSettle
{
    private const double QuietSeconds = 0.02; // tier-up compiling in one second of load: ~2 % of a core
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="load"/> for a second at a time until the server's tier-up compiler
    /// used less than <see cref="QuietSeconds"/> in one of them (at most 30 s); returns how long it took
    /// and whether it settled.</summary>
    public static async Task<(TimeSpan Took, bool Settled)> RunAsync(int serverPid, Func<TimeSpan, Task> load)
    {
        var took = TimeSpan.Zero;
        while (took < Longest)
        {
            var before = CompilerSeconds(serverPid);
            await load(Step);
            took += Step;
            if (CompilerSeconds(serverPid) - before < QuietSeconds) return (took, true);
        }
        return (took, false);
    }

    /// <summary>CPU time of the runtime's background tier-up compiler thread (".NET Tiered Compilation",
    /// cut to 15 characters in /proc).</summary>
    private static double CompilerSeconds(int pid)
    {
        var total = 0.0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal))
                {
                    total += CpuSampler.StatSeconds(Path.Combine(task, "stat"));
                }
            }
            catch (IOException) { } // the thread ended between listing and reading
        }
        return total;
    }
}
