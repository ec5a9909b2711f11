using System.Net.Http.Headers;
using Coffer.Hsm;
using Coffer.KeyStores;
using Coffer.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Testing;

/// <summary>
/// A real Coffer node on loopback (free ports, a real SQLite file in a temp directory, the dev seal),
/// set up exactly as <c>coffer dev</c> does: demo key store <c>/demo</c>, one credential, key
/// <c>demo-key</c>. Restart keeps the data directory.
/// </summary>
/// <remarks>
/// With <c>backend: "pkcs11"</c> the node gets a fresh SoftHSM2 token (<see cref="SoftHsmToken"/>) as
/// <see cref="CofferOptions.Pkcs11"/>, so the demo key store keeps its keys in the token; a restart
/// keeps using that token.
/// </remarks>
public sealed class DevServer : IAsyncDisposable
{
    private readonly bool _ownsDirectory;
    private readonly ILoggerFactory _loggers;

    private DevServer(CofferServer server, DevInfo info, string dataDirectory, bool ownsDirectory, CapturedLogs logs, ConsoleLogs console, ILoggerFactory loggers, Action<CofferOptions>? configure, TimeProvider? time, SoftHsmToken? token)
    {
        ConsoleOutput = console;
        Token = token;
        Server = server;
        Info = info;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        Logs = logs;
        _loggers = loggers;
        Configure = configure;
        Time = time;
        Admin = new HttpClient { BaseAddress = server.AdminUrl };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", info.AdminToken);
    }

    public CofferServer Server { get; }

    public DevInfo Info { get; }

    public string DataDirectory { get; }

    /// <summary>Everything the server logged since it started.</summary>
    public CapturedLogs Logs { get; }

    /// <summary>The same events as the server's console writes them (text and JSON).</summary>
    public ConsoleLogs ConsoleOutput { get; }

    /// <summary>A management API client carrying the admin token.</summary>
    public HttpClient Admin { get; }

    public Uri XksUrl => Server.XksUrl;

    /// <summary>The backend of the demo key store, and of key stores the tests make by default.</summary>
    public string Backend => Info.Backend;

    /// <summary>The SoftHSM2 token of a pkcs11 node (null for a software one).</summary>
    public SoftHsmToken? Token { get; }

    private Action<CofferOptions>? Configure { get; }

    private TimeProvider? Time { get; }

    /// <param name="configure">Changes to the options before start (TLS, limits...); runs after the
    /// Pkcs11 options are set, so it may change them too.</param>
    /// <param name="dataDirectory">Reuse a directory (e.g. after a restart); a fresh temp one when null.</param>
    /// <param name="backend"><c>software</c>, or <c>pkcs11</c> for a node with a new SoftHSM2 token
    /// that keeps the demo key store's keys.</param>
    public static Task<DevServer> StartAsync(Action<CofferOptions>? configure = null, string? dataDirectory = null, TimeProvider? time = null, string backend = KeyStoreBackends.Software)
    {
        var token = backend switch
        {
            KeyStoreBackends.Software => null,
            KeyStoreBackends.Pkcs11 => SoftHsmToken.Create(),
            _ => throw new ArgumentException($"No test node for backend '{backend}'.", nameof(backend)),
        };
        return StartAsync(configure, dataDirectory, time, ownsDirectory: dataDirectory is null, token);
    }

    /// <summary>The Pkcs11 options of a node on <paramref name="token"/>. A 2 s session wait (the
    /// default is 200 ms) keeps a loaded CI machine from turning slow calls into 429s.</summary>
    public static Pkcs11Options Pkcs11Options(SoftHsmToken token) => new()
    {
        ModulePath = SoftHsmToken.ModulePath,
        TokenLabel = token.TokenLabel,
        PinFile = token.PinFile,
        SessionTimeoutMs = 2000,
    };

    private static async Task<DevServer> StartAsync(Action<CofferOptions>? configure, string? dataDirectory, TimeProvider? time, bool ownsDirectory, SoftHsmToken? token)
    {
        var owns = ownsDirectory;
        dataDirectory ??= Directory.CreateTempSubdirectory("coffer-test-").FullName;
        var options = new CofferOptions
        {
            DataDirectory = dataDirectory,
            NodeId = "test-node",
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
            Pkcs11 = token is null ? null : Pkcs11Options(token),
        };
        configure?.Invoke(options);

        var logs = new CapturedLogs();
        var console = new ConsoleLogs();
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs).AddProvider(console.Text).AddProvider(console.Json));
        try
        {
            var (server, info) = await DevEnvironment.StartAsync(options, loggers, time);
            var node = new DevServer(server, info, dataDirectory, owns, logs, console, loggers, configure, time, token);
            if (options.Storage.Engine == StorageOptions.Postgres)
            {
                await node.WaitUntilCurrentAsync();
            }

            return node;
        }
        catch
        {
            loggers.Dispose();
            console.Dispose();
            if (owns)
            {
                token?.Dispose();
                TryDelete(dataDirectory);
            }

            throw;
        }
    }

    // A node on a shared database refuses key calls until its change listener has first confirmed that
    // it holds the cluster's latest changes (docs/cluster.md, "Changes between nodes and staleness"), a
    // moment after its start, longer on a loaded machine; a load balancer sends it no calls before its
    // /ping says ok, and neither do the tests. A sealed node has nothing to be current for.
    private async Task WaitUntilCurrentAsync()
    {
        try
        {
            await Wait.UntilAsync(async () => (await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(XksUrl, "/ping"))).Body is not "stale\n",
                "the node's change listener to confirm it is current");
        }
        catch (Exception e)
        {
            // What the change listener (events 140x) last said is why.
            var listener = string.Join(" | ", Logs.Lines.Where(l => l.Contains("[140", StringComparison.Ordinal)).TakeLast(5));
            await DisposeAsync();
            throw new TimeoutException($"The node never became current; its change listener said: {listener}", e);
        }
    }

    /// <summary>Stops this node and starts a new one on the same data directory (new ports) and, for a
    /// pkcs11 node, the same token.</summary>
    /// <param name="change">A further change to the options of the new node and its later restarts
    /// (e.g. a broken Pkcs11 configuration).</param>
    /// <param name="whileStopped">Runs between the stop and the start (e.g. a fake clock moving on
    /// while no node is running).</param>
    public async Task<DevServer> RestartAsync(Action<CofferOptions>? change = null, Action? whileStopped = null)
    {
        await StopAsync();
        whileStopped?.Invoke();
        var configure = change is null ? Configure : Configure + change;
        // The new node takes over the data directory and token (and deleting them at the end, if this
        // one owned them).
        return await StartAsync(configure, DataDirectory, Time, _ownsDirectory, Token);
    }

    private async Task StopAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
        _loggers.Dispose();
        ConsoleOutput.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_ownsDirectory)
        {
            Token?.Dispose();
            TryDelete(DataDirectory);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
