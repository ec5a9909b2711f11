using System.Text.Json;
using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>
/// <c>coffer server --config FILE</c> as a child process with the dev seal, on a data directory that
/// another node may share (docs/cluster.md: several processes on one SQLite file are a real cluster).
/// Ready once it printed where it listens.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private ServerProcess(ChildProcess process, string nodeId, Uri xksUrl, Uri adminUrl)
    {
        Process = process;
        NodeId = nodeId;
        XksUrl = xksUrl;
        AdminUrl = adminUrl;
    }

    public ChildProcess Process { get; }

    public string NodeId { get; }

    public Uri XksUrl { get; }

    public Uri AdminUrl { get; }

    /// <summary>Short timings for tests: a node counts as gone 1.5 s after its last heartbeat, a lease lasts 3 s.</summary>
    public static readonly object ShortTimings = new { HeartbeatMilliseconds = 200, LivenessMilliseconds = 1500, LeaseMilliseconds = 3000, RenewMilliseconds = 500 };

    /// <summary>Starts a node named <paramref name="nodeId"/> on <paramref name="dataDirectory"/>, which a dev
    /// node must have initialised; <paramref name="cluster"/> null keeps the default timings.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, string nodeId, object? cluster)
    {
        var process = Launch(dataDirectory, nodeId, cluster);
        for (var waited = TimeSpan.Zero; waited < TimeSpan.FromSeconds(90); waited += TimeSpan.FromMilliseconds(100))
        {
            if (Ready().Match(process.Output) is { Success: true } ready)
            {
                return new ServerProcess(process, nodeId, new Uri(ready.Groups["xks"].Value), new Uri(ready.Groups["admin"].Value));
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(100);
        }

        var output = process.Output;
        await process.DisposeAsync();
        throw new InvalidOperationException($"coffer server {nodeId} did not start: {output}");
    }

    /// <summary>Starts a node that is expected to refuse: its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(string dataDirectory, string nodeId, object? cluster)
    {
        await using var process = Launch(dataDirectory, nodeId, cluster);
        var exitCode = await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (exitCode, process.Output);
    }

    /// <summary>kill -9.</summary>
    public Task KillAsync()
    {
        Process.Kill();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static ChildProcess Launch(string dataDirectory, string nodeId, object? cluster)
    {
        var config = Path.Combine(dataDirectory, $"{nodeId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            DataDirectory = dataDirectory,
            Seal = "dev",
            NodeId = nodeId,
            Xks = new { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new { Address = "127.0.0.1", Port = 0 },
            Cluster = cluster ?? new { },
        }));
        return CofferProcess.Start(dataDirectory, ["server", "--config", config]);
    }

    [GeneratedRegex(@"XKS on (?<xks>\S+), management on (?<admin>\S+),")]
    private static partial Regex Ready();
}
