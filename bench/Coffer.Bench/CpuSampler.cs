using System.Globalization;

namespace Coffer.Bench;

/// <summary>CPU time of the server, the client (this process) and everything else over a scenario,
/// from /proc. "Other" shows whether the machine was quiet; server vs client shows the bottleneck; idle
/// (with I/O wait) shows a run that left the CPUs waiting rather than one that used them up. A cluster
/// row sums its nodes as the server and measures side processes (PostgreSQL, HAProxy) apart, each with
/// the processes it started, so they are left out of "other".</summary>
public sealed class CpuSampler
{
    private const double ClockTicks = 100.0; // USER_HZ on Linux
    private readonly int[] _servers;
    private readonly (string Name, int Pid)[] _side;
    private readonly Sample _start;

    public CpuSampler(int serverPid) : this([serverPid]) { }

    public CpuSampler(IReadOnlyList<int> serverPids, params (string Name, int Pid)[] side)
    {
        _servers = [.. serverPids];
        _side = side;
        _start = Read();
    }

    /// <summary>Cores each side process tree used over the interval, once <see cref="Stop"/> ran.</summary>
    public IReadOnlyList<(string Name, double Cores)> Side { get; private set; } = [];

    /// <summary>Cores used during the interval: server and client processes, interrupt/softirq time (mostly
    /// the loopback TCP stack working for both, not charged to either), everything else, and idle
    /// (I/O wait included).</summary>
    public (double Server, double Client, double Irq, double Other, double Idle) Stop()
    {
        var end = Read();
        var secs = (end.At - _start.At).TotalSeconds;
        if (secs <= 0) return (0, 0, 0, 0, 0);
        var server = (end.Server - _start.Server) / secs;
        var client = (end.Client - _start.Client) / secs;
        var busy = (end.Busy - _start.Busy) / secs;
        var irq = (end.Irq - _start.Irq) / secs;
        var idle = (end.Idle - _start.Idle) / secs;
        Side = [.. _side.Select((s, i) => (s.Name, (end.Side[i] - _start.Side[i]) / secs))];
        return (server, client, irq, Math.Max(0, busy - irq - server - client - Side.Sum(s => s.Cores)), idle);
    }

    private sealed record Sample(double Busy, double Irq, double Idle, double Server, double Client, double[] Side, DateTime At);

    private Sample Read()
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double V(int i) => double.Parse(f[i], CultureInfo.InvariantCulture) / ClockTicks;
        return new(V(1) + V(2) + V(3) + V(6) + V(7) + V(8), V(6) + V(7), V(4) + V(5),
            _servers.Sum(ProcessSeconds), ProcessSeconds(Environment.ProcessId), [.. _side.Select(s => TreeSeconds(s.Pid))], DateTime.UtcNow);
    }

    private static double ProcessSeconds(int pid) => StatSeconds($"/proc/{pid}/stat");

    /// <summary>CPU seconds of a process, of its children that ended (the kernel adds them to the parent
    /// once reaped) and of every live descendant: a PostgreSQL postmaster with its backends.</summary>
    public static double TreeSeconds(int pid)
    {
        var total = StatSeconds($"/proc/{pid}/stat", withReapedChildren: true);
        foreach (var child in ChildrenOf(pid)) total += TreeSeconds(child);
        return total;
    }

    private static IEnumerable<int> ChildrenOf(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var text = File.ReadAllText(Path.Combine(task, "children"));
                children.AddRange(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
            }
        }
        catch (IOException) { } // the process ended while it was read
        return children;
    }

    /// <summary>User plus system CPU seconds from a /proc stat file (a process's or one thread's,
    /// /proc/PID/task/TID/stat), with <paramref name="withReapedChildren"/> also those of its children
    /// that ended and were waited for; 0 once it is gone.</summary>
    public static double StatSeconds(string statPath, bool withReapedChildren = false)
    {
        try
        {
            var s = File.ReadAllText(statPath);
            var f = s[(s.LastIndexOf(')') + 2)..].Split(' ');
            // After "(comm) ", field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12,
            // cutime (16) and cstime (17) indexes 13 and 14.
            double F(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            return (F(11) + F(12) + (withReapedChildren ? F(13) + F(14) : 0)) / ClockTicks;
        }
        catch (IOException) { return 0; }
    }

    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

    public static string Affinity(int pid = 0)
    {
        var path = pid == 0 ? "/proc/self/status" : $"/proc/{pid}/status";
        return File.ReadLines(path).FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?
            .Split(':')[1].Trim() ?? "?";
    }
}
