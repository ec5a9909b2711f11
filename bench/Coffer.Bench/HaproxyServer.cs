using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Coffer.Bench;

/// <summary>
/// Debian's HAProxy in front of the cluster rows' nodes, with the repository's docs/haproxy.cfg as a
/// user deploys it: TCP passthrough, round robin, GET /ping checks at the documented timing (inter 2s,
/// fall 2, rise 2) and on-marked-down shutdown-sessions. Only what the loopback bench cannot keep is
/// changed: the bind address, one server line per node, and the checks in plain HTTP (the nodes serve
/// plain HTTP here, so check-ssl and its certificate options go).
/// </summary>
public static class HaproxyServer
{
    public const string Executable = "/usr/sbin/haproxy";
    private static readonly string[] TlsCheckOptionsWithValue = ["verify", "ca-file", "crt"];

    public static async Task<(Process Process, int Port)> StartAsync(ChildProcesses children, string work, string documentedConfig, IReadOnlyList<int> xksPorts)
    {
        if (!File.Exists(Executable)) throw new BenchException($"{Executable} is missing: install Debian's haproxy package (apt-get install haproxy)");
        if (!File.Exists(documentedConfig)) throw new BenchException($"{documentedConfig} is missing: run the bench from the repository (bench/run.sh)");
        var port = ChildProcesses.FreePort();
        var config = Path.Combine(work, "haproxy.cfg");
        await File.WriteAllLinesAsync(config, Render(await File.ReadAllLinesAsync(documentedConfig), port, xksPorts));
        var log = Path.Combine(work, "haproxy.log");
        var process = children.Start("haproxy", null, log, [Executable, "-f", config, "-db"]);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new BenchException($"haproxy exited ({process.ExitCode}):\n{ChildProcesses.Tail(log)}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return (process, port);
            }
            catch (SocketException) when (waited.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>docs/haproxy.cfg for loopback: see the type's summary for what changes.</summary>
    public static IEnumerable<string> Render(IEnumerable<string> lines, int port, IReadOnlyList<int> xksPorts)
    {
        foreach (var line in lines)
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words.FirstOrDefault())
            {
                case "bind":
                    yield return string.Create(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{port}");
                    break;
                case "default-server":
                    yield return "    " + string.Join(' ', WithoutTlsCheck(words));
                    for (var i = 0; i < xksPorts.Count; i++)
                        yield return string.Create(CultureInfo.InvariantCulture, $"    server node{i + 1} 127.0.0.1:{xksPorts[i]}");
                    break;
                case "server":
                    break;
                default:
                    yield return line;
                    break;
            }
        }
    }

    private static IEnumerable<string> WithoutTlsCheck(string[] words)
    {
        for (var i = 0; i < words.Length; i++)
        {
            if (TlsCheckOptionsWithValue.Contains(words[i])) i++;
            else if (words[i] != "check-ssl") yield return words[i];
        }
    }
}
