using System.Globalization;

namespace Coffer.Bench;

/// <summary>CPU time of the server, the client (this process) and everything else over a scenario,
/// from /proc. "Other" shows whether the machine was quiet; server vs client shows the bottleneck; idle
/// (with I/O wait) shows a run that left the CPUs waiting rather than one that used them up.</summary>
public sealed class CpuSampler
{
    private const double ClockTicks = 100.0; // USER_HZ on Linux
    private readonly int _server;
    private readonly (double Busy, double Irq, double Idle, double Server, double Client, DateTime At) _start;

    public CpuSampler(int serverPid)
    {
        _server = serverPid;
        _start = Read();
    }

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
        return (server, client, irq, Math.Max(0, busy - irq - server - client), idle);
    }

    private (double Busy, double Irq, double Idle, double Server, double Client, DateTime At) Read()
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        double V(int i) => double.Parse(f[i], CultureInfo.InvariantCulture) / ClockTicks;
        return (V(1) + V(2) + V(3) + V(6) + V(7) + V(8), V(6) + V(7), V(4) + V(5),
            ProcessSeconds(_server), ProcessSeconds(Environment.ProcessId), DateTime.UtcNow);
    }

    private static double ProcessSeconds(int pid) => StatSeconds($"/proc/{pid}/stat");

    /// <summary>User plus system CPU seconds from a /proc stat file (a process's or one thread's,
    /// /proc/PID/task/TID/stat); 0 once it is gone.</summary>
    public static double StatSeconds(string statPath)
    {
        try
        {
            var s = File.ReadAllText(statPath);
            var f = s[(s.LastIndexOf(')') + 2)..].Split(' ');
            // After "(comm) ", field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
            return (double.Parse(f[11], CultureInfo.InvariantCulture) + double.Parse(f[12], CultureInfo.InvariantCulture)) / ClockTicks;
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
