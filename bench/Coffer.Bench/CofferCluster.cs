using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Coffer.Bench;

/// <summary>One `coffer server` process of the cluster rows.</summary>
public sealed record ClusterNode(string Id, Process Process, XksTarget Target, Uri AdminUrl, string Log);

/// <summary>
/// The PostgreSQL-backed Coffer of the cluster rows. It is set up as a user tries a cluster first,
/// `coffer dev --cluster 2` (initdb of a throw-away PostgreSQL, the dev seal, the demo key store, its
/// credential and key), which is then stopped; the bench runs that database under its own
/// <see cref="PostgresServer"/> and each node as production runs one, `coffer server --config FILE`,
/// a process of its own so that its CPU is measured and it can be killed alone. Every node is
/// unsealed by the dev master key file and serves the same demo key store.
/// </summary>
public sealed class CofferCluster
{
    private readonly Options _options;
    private readonly ChildProcesses _children;
    private readonly string _work;
    private readonly XksTarget _demo;

    private CofferCluster(Options options, ChildProcesses children, string work, XksTarget demo, string adminToken, PostgresServer postgres)
    {
        _options = options;
        _children = children;
        _work = work;
        _demo = demo;
        AdminToken = adminToken;
        Postgres = postgres;
    }

    public PostgresServer Postgres { get; }

    /// <summary>The root token `coffer dev` made (dev.json): the management calls of the kill-switch row.</summary>
    public string AdminToken { get; }

    private string DataDirectory => Path.Combine(_work, "cluster");

    public static async Task<CofferCluster> SetUpAsync(Options o, ChildProcesses children, string work)
    {
        var data = Path.Combine(work, "cluster");
        if (Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows())
        {
            // PostgreSQL runs as the 'postgres' user, who must pass through the bench's directory to reach
            // its own: search only (no listing), as src/Coffer.Server/Hosting/DevCluster.cs does for the data directory.
            File.SetUnixFileMode(work, File.GetUnixFileMode(work) | UnixFileMode.OtherExecute);
        }
        var log = Path.Combine(work, "coffer-dev-cluster.log");
        var dev = children.Start("coffer dev --cluster 2", null, log,
            ["dotnet", o.CofferDll!, "dev", "--cluster", "2", "--data", data, "--xks-port", "0", "--admin-port", "0"]);
        var demo = await DevInfo.WaitAsync(data, dev, log);
        // A graceful stop, so that it stops its PostgreSQL too (pg_ctl stop) and leaves the directory to the bench's own.
        if (!children.Terminate(dev, TimeSpan.FromSeconds(60)))
            throw new BenchException($"`coffer dev --cluster 2` did not stop on SIGTERM within a minute:\n{ChildProcesses.Tail(log)}");
        using var info = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(data, "dev.json")));
        var token = info.RootElement.GetProperty("adminToken").GetString() ?? throw new BenchException("dev.json has no adminToken");
        var postgres = await PostgresServer.StartAsync(children, Path.Combine(data, "postgres"), Path.Combine(work, "postgres.log"));
        return new CofferCluster(o, children, work, demo, token, postgres);
    }

    /// <summary>Starts node <paramref name="number"/> (1-based) on free loopback ports and waits until a
    /// signed health check answers 200.</summary>
    public async Task<ClusterNode> StartNodeAsync(int number)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"bench-node-{number}");
        var directory = Directory.CreateDirectory(Path.Combine(_work, id)).FullName;
        var xksPort = ChildProcesses.FreePort();
        var adminPort = ChildProcesses.FreePort();
        var config = new JsonObject
        {
            ["NodeId"] = id,
            ["DataDirectory"] = directory,
            ["Seal"] = "dev",
            ["DevMasterKeyPath"] = Path.Combine(DataDirectory, "master.key"),
            ["Storage"] = new JsonObject { ["Engine"] = "postgres", ["ConnectionString"] = Postgres.ConnectionString },
            ["Xks"] = new JsonObject { ["Address"] = "127.0.0.1", ["Port"] = xksPort, ["AllowPlainHttp"] = true },
            ["Admin"] = new JsonObject { ["Address"] = "127.0.0.1", ["Port"] = adminPort },
        };
        var configPath = Path.Combine(directory, "node.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var log = Path.Combine(_work, $"coffer-{id}.log");
        var process = _children.Start(id, null, log, ["dotnet", _options.CofferDll!, "server", "--config", configPath]);
        var target = At(xksPort);
        await DevInfo.WaitHealthyAsync(target, process, log, TimeSpan.FromMinutes(2));
        return new ClusterNode(id, process, target, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{adminPort}/")), log);
    }

    /// <summary>The demo key store at a loopback port: a node's, or HAProxy's.</summary>
    public XksTarget At(int port) =>
        _demo with { BaseUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}{_demo.BaseUrl.AbsolutePath}")) };
}
