using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Coffer.Testing;

/// <summary>
/// Debian's HAProxy as a real foreground process (<c>haproxy -f CONFIG -db</c>) on a free loopback
/// port, with its log kept for assertions. The standard configuration is docs/haproxy.cfg, rendered
/// for tests by <see cref="StandardConfig"/>.
/// </summary>
public sealed class HaproxyProcess : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/haproxy";

    /// <summary>Test timing: a node is marked down after one failed check, at most 100 ms later.</summary>
    public const string TestCheckTiming = "inter 100ms fall 1 rise 1";

    private const int PortAttempts = 5;

    private readonly ChildProcess _process;
    private readonly string _configPath;

    private HaproxyProcess(ChildProcess process, string configPath, int port)
    {
        _process = process;
        _configPath = configPath;
        Port = port;
    }

    /// <summary>The frontend's loopback port.</summary>
    public int Port { get; }

    /// <summary>What HAProxy wrote so far (its log goes to stdout, alerts to stderr).</summary>
    public string Log => _process.Output;

    /// <summary>docs/haproxy.cfg with its frontend on 127.0.0.1:<paramref name="port"/>, one server
    /// <c>node1</c>, <c>node2</c>... per XKS port in <paramref name="xksPorts"/> (on 127.0.0.1), and
    /// the health checks in plain HTTP (test nodes' XKS listeners allow it) at
    /// <see cref="TestCheckTiming"/>. Everything else is the documented text.</summary>
    public static string StandardConfig(int port, IReadOnlyList<int> xksPorts)
    {
        var lines = File.ReadAllLines(Path.Combine(TestData.RepositoryRoot, "docs", "haproxy.cfg"));
        var rendered = new List<string>();
        foreach (var line in lines)
        {
            var words = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words.FirstOrDefault())
            {
                case "bind":
                    rendered.Add(string.Create(CultureInfo.InvariantCulture, $"    bind 127.0.0.1:{port}"));
                    break;
                case "default-server":
                    rendered.Add("    default-server " + string.Join(' ', ForTests(words.Skip(1))));
                    rendered.AddRange(xksPorts.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"    server node{i + 1} 127.0.0.1:{p}")));
                    break;
                case "server":
                    break;
                default:
                    rendered.Add(line);
                    break;
            }
        }

        return string.Join('\n', rendered) + "\n";
    }

    // The default-server options without TLS (check-ssl, verify X, ca-file X, crt X) and with the
    // test timing instead of inter/fall/rise.
    private static IEnumerable<string> ForTests(IEnumerable<string> options)
    {
        var skipValue = false;
        foreach (var option in options)
        {
            if (skipValue)
            {
                skipValue = false;
            }
            else if (option is "verify" or "ca-file" or "crt" or "inter" or "fall" or "rise")
            {
                skipValue = true;
            }
            else if (option != "check-ssl")
            {
                yield return option;
            }
        }

        yield return TestCheckTiming;
    }

    /// <summary>HAProxy with the standard configuration in front of test nodes' XKS ports.</summary>
    public static async Task<HaproxyProcess> StartAsync(IReadOnlyList<int> xksPorts)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPorts.Free();
            try
            {
                return await StartAsync(StandardConfig(port, xksPorts), port);
            }
            catch (InvalidOperationException e) when (attempt < PortAttempts && e.Message.Contains("cannot bind socket", StringComparison.Ordinal))
            {
                // The free port was taken before HAProxy bound it: another one.
            }
        }
    }

    /// <summary>HAProxy with the test's own <paramref name="config"/>, whose frontend listens on
    /// <paramref name="port"/> (127.0.0.1); ready once that port accepts connections.</summary>
    public static async Task<HaproxyProcess> StartAsync(string config, int port)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException($"{Executable} was not found: install Debian's haproxy package (apt-get install haproxy, or run ./test.sh).");
        }

        var configPath = Path.Combine(Path.GetTempPath(), $"coffer-haproxy-{Guid.NewGuid():N}.cfg");
        await File.WriteAllTextAsync(configPath, config);
        var running = new HaproxyProcess(ChildProcess.Start(Executable, ["-f", configPath, "-db"]), configPath, port);
        try
        {
            await running.WaitUntilListeningAsync();
            return running;
        }
        catch
        {
            await running.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow + Wait.Patience;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited ({await _process.WaitForExitAsync()}): {Log}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>Stops HAProxy (SIGTERM; SIGKILL if it has not gone within 5 s) and removes its
    /// configuration file.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.TerminateAsync(TimeSpan.FromSeconds(5));
        await _process.DisposeAsync();
        File.Delete(_configPath);
    }
}
