using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Coffer.Bench;

/// <summary>Starts the servers under test as separate processes (optionally pinned with taskset, stdout
/// to a log file so a chatty server never blocks on a pipe) and guarantees they are killed: on
/// normal exit, on failure, on Ctrl-C and on SIGTERM.</summary>
public sealed partial class ChildProcesses : IDisposable
{
    private readonly List<(string Name, Process Process)> _children = [];
    private readonly Lock _lock = new();
    private readonly List<PosixSignalRegistration> _signals = [];

    /// <summary>Runs after the servers are killed by a signal (the bench removes its temp directory).</summary>
    public Action? OnInterrupted { get; set; }

    public ChildProcesses()
    {
        // Ctrl-C, kill, hang-up: stop the servers first, then let the signal end the bench as usual.
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            _signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
        AppDomain.CurrentDomain.ProcessExit += OnExit;
    }

    public Process Start(string name, string? cpus, string logPath, IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var line = string.Join(' ', command.Select(Quote));
        if (cpus is not null) line = $"taskset -c {Quote(cpus)} {line}";
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"exec {line} >{Quote(logPath)} 2>&1 </dev/null");
        // Client-only tuning (see run.sh) must not leak into the servers under test.
        psi.Environment.Remove("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS");
        psi.Environment.Remove("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit");
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {name}");
        lock (_lock) _children.Add((name, p));
        return p;
    }

    public void Stop(Process p)
    {
        lock (_lock) _children.RemoveAll(c => c.Process == p);
        Kill(p);
    }

    /// <summary>A graceful stop: SIGTERM, then <see cref="Stop"/> (SIGKILL) if it has not ended within
    /// <paramref name="grace"/>. Returns whether it ended by itself.</summary>
    public bool Terminate(Process p, TimeSpan grace)
    {
        const int SigTerm = 15;
        var ended = p.HasExited || (SysKill(p.Id, SigTerm) == 0 && p.WaitForExit(grace));
        Stop(p);
        return ended;
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);

    public void Dispose()
    {
        KillAll();
        foreach (var r in _signals) r.Dispose();
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
    }

    private void KillAll()
    {
        List<(string, Process)> copy;
        lock (_lock) { copy = [.. _children]; _children.Clear(); }
        foreach (var (_, p) in copy) SendKill(p);   // all at once, then wait
        foreach (var (_, p) in copy) Kill(p);
    }

    private static void SendKill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    private static void Kill(Process p)
    {
        SendKill(p);
        try { p.WaitForExit(5000); }
        catch (InvalidOperationException) { }
        p.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        Console.Error.WriteLine($"{context.Signal}: stopping the servers the bench started");
        KillAll();
        try { OnInterrupted?.Invoke(); }
        catch (IOException) { }
    }

    private void OnExit(object? sender, EventArgs e) => KillAll();

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>A free loopback port (bind to 0, read it, release it).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Whether a built app's runtimeconfig asks for Server GC, so the ceiling can mirror it.</summary>
    public static bool UsesServerGc(string dll)
    {
        var cfg = Path.ChangeExtension(dll, ".runtimeconfig.json");
        if (!File.Exists(cfg)) return false;
        using var doc = JsonDocument.Parse(File.ReadAllText(cfg));
        return doc.RootElement.TryGetProperty("runtimeOptions", out var ro)
            && ro.TryGetProperty("configProperties", out var cp)
            && cp.TryGetProperty("System.GC.Server", out var gc) && gc.ValueKind == JsonValueKind.True;
    }

    public static string Tail(string path, int lines = 20) =>
        File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(lines)) : "(no log)";
}
