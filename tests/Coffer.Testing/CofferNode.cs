using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Coffer.Server.Hosting;

namespace Coffer.Testing;

/// <summary>
/// A Coffer node as a real process: the built executable run as <c>coffer server --config FILE</c>,
/// with a JSON configuration the test fills, on fixed loopback ports that a restart keeps (so HAProxy
/// and peers find it again). For crash tests: <see cref="Kill"/> (SIGKILL), <see cref="StopAsync"/>
/// (SIGTERM, graceful) and <see cref="StartAsync()"/> again on the same configuration.
/// </summary>
public sealed class CofferNode : IAsyncDisposable
{
    /// <summary>How long a start may take on a loaded CI machine.</summary>
    public static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(60);

    /// <summary>The built <c>coffer</c> executable, as a command line to which its arguments are
    /// added: the running .NET host and the coffer.dll that the test project copies beside itself.</summary>
    public static IReadOnlyList<string> Executable { get; } =
        [Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Path.Combine(AppContext.BaseDirectory, "coffer.dll")];

    /// <summary>Part of the line <c>coffer server</c> prints once it has started (src/Coffer.Cli/Commands/ServerCommand.cs).</summary>
    private const string StartedLine = ", management on ";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly bool _ownsDirectory;
    private ChildProcess? _process;

    private CofferNode(string nodeId, string dataDirectory, bool ownsDirectory, JsonObject config)
    {
        NodeId = nodeId;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        Config = config;
        ConfigPath = Path.Combine(dataDirectory, "node.json");
    }

    public string NodeId { get; }

    public string DataDirectory { get; }

    /// <summary>The configuration the node runs with (written to <see cref="ConfigPath"/> at every
    /// start, so a test may change it between a stop and a start).</summary>
    public JsonObject Config { get; }

    public string ConfigPath { get; }

    public int XksPort => (int)Config["Xks"]!["Port"]!;

    public int AdminPort => (int)Config["Admin"]!["Port"]!;

    public Uri XksUrl => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{XksPort}/"));

    public Uri AdminUrl => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{AdminPort}/"));

    /// <summary>What the current process (the last one, once it has exited) printed.</summary>
    public string Output => _process?.Output ?? "";

    /// <summary>Starts a node and waits until it has started: it printed where it listens and its XKS
    /// port answers <c>GET /ping</c> (200, or 503 while sealed).</summary>
    /// <param name="dataDirectory">Its data directory (kept at the end); a new temp one, deleted at the
    /// end, when null.</param>
    /// <param name="configure">Fills the configuration: the seal, storage, cluster settings. It starts
    /// as <see cref="CofferOptions"/>'s names with this node's id, data directory and two free loopback
    /// ports, the XKS one in plain HTTP.</param>
    public static async Task<CofferNode> StartAsync(string nodeId, string? dataDirectory = null, Action<JsonObject>? configure = null)
    {
        var node = Create(nodeId, dataDirectory, configure);
        try
        {
            await node.StartAsync();
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>A node configured as <see cref="StartAsync(string, string?, Action{JsonObject}?)"/> does,
    /// not yet started.</summary>
    public static CofferNode Create(string nodeId, string? dataDirectory = null, Action<JsonObject>? configure = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("coffer-node-").FullName;
        var config = new JsonObject
        {
            [nameof(CofferOptions.NodeId)] = nodeId,
            [nameof(CofferOptions.DataDirectory)] = dataDirectory,
            [nameof(CofferOptions.Xks)] = new JsonObject { ["Address"] = "127.0.0.1", ["Port"] = LoopbackPorts.Free(), ["AllowPlainHttp"] = true },
            [nameof(CofferOptions.Admin)] = new JsonObject { ["Address"] = "127.0.0.1", ["Port"] = LoopbackPorts.Free() },
        };
        configure?.Invoke(config);
        return new CofferNode(nodeId, dataDirectory, owns, config);
    }

    /// <summary>A data directory initialised with the dev seal (<c>Seal: "dev"</c> unseals it at
    /// start) and the demo key store of <c>coffer dev</c>, whose credentials this returns.</summary>
    /// <param name="configure">Options of the node that initialises it, e.g. PostgreSQL storage: the
    /// demo key store is then made in that database.</param>
    public static async Task<(string DataDirectory, DevInfo Info)> CreateDevDataDirectoryAsync(Action<CofferOptions>? configure = null)
    {
        var directory = Directory.CreateTempSubdirectory("coffer-node-").FullName;
        await using var dev = await DevServer.StartAsync(configure, dataDirectory: directory);
        return (directory, dev.Info);
    }

    /// <summary>Starts the node (again) with <see cref="Config"/> and waits until it has started.</summary>
    public async Task StartAsync()
    {
        await LaunchAsync();
        await WaitForPingAsync();
    }

    /// <summary>Starts the node's process (again) with <see cref="Config"/> and returns at once, while
    /// the node is still starting.</summary>
    public async Task LaunchAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException($"Node {NodeId} is already running.");
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        await File.WriteAllTextAsync(ConfigPath, Config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        // The runner's own COFFER_* settings (client address and token, overrides) must not reach the node.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("COFFER_", StringComparison.Ordinal))
            .ToDictionary(name => name, string? (_) => null);
        _process = ChildProcess.Start(Executable[0], [.. Executable.Skip(1), "server", "--config", ConfigPath], environment);
    }

    private async Task WaitForPingAsync()
    {
        var deadline = DateTime.UtcNow + StartPatience;
        while (true)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"Node {NodeId} exited ({await _process.WaitForExitAsync()}): {Output}");
            }

            // The XKS listener answers before the management listener and the cluster have started:
            // the node has started once it printed where it listens (a stop before then cuts its start short).
            if (await TryPingAsync() is not null && Output.Contains(StartedLine, StringComparison.Ordinal))
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Node {NodeId} did not answer /ping within {StartPatience.TotalSeconds:0} s: {Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The status of <c>GET /ping</c> on the XKS port, or null when nothing answers.</summary>
    public async Task<HttpStatusCode?> TryPingAsync()
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(XksUrl, "ping"));
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL: the node dies as in a crash (no shutdown, nothing flushed), at once
    /// (<see cref="ChildProcess.Crash"/>: a node starts no process of its own).</summary>
    public void Kill() => _process?.Crash();

    /// <summary>SIGTERM: a graceful stop. Returns the exit code (SIGKILL after 30 s).</summary>
    public Task<int> StopAsync() =>
        _process?.TerminateAsync(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException($"Node {NodeId} was never started.");

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
