using System.Net.Http.Headers;
using Coffer.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Coffer.Testing;

/// <summary>
/// A real Coffer node on loopback (free ports, a real SQLite file in a temp directory, the dev seal),
/// set up exactly as <c>coffer dev</c> does: demo key store <c>/demo</c>, one credential, key
/// <c>demo-key</c>. Restart keeps the data directory.
/// </summary>
public sealed class DevServer : IAsyncDisposable
{
    private readonly bool _ownsDirectory;
    private readonly ILoggerFactory _loggers;

    private DevServer(CofferServer server, DevInfo info, string dataDirectory, bool ownsDirectory, CapturedLogs logs, ILoggerFactory loggers, Action<CofferOptions>? configure, TimeProvider? time)
    {
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

    /// <summary>A management API client carrying the admin token.</summary>
    public HttpClient Admin { get; }

    public Uri XksUrl => Server.XksUrl;

    private Action<CofferOptions>? Configure { get; }

    private TimeProvider? Time { get; }

    /// <param name="configure">Changes to the options before start (TLS, limits...).</param>
    /// <param name="dataDirectory">Reuse a directory (e.g. after a restart); a fresh temp one when null.</param>
    public static Task<DevServer> StartAsync(Action<CofferOptions>? configure = null, string? dataDirectory = null, TimeProvider? time = null) =>
        StartAsync(configure, dataDirectory, time, ownsDirectory: dataDirectory is null);

    private static async Task<DevServer> StartAsync(Action<CofferOptions>? configure, string? dataDirectory, TimeProvider? time, bool ownsDirectory)
    {
        var owns = ownsDirectory;
        dataDirectory ??= Directory.CreateTempSubdirectory("coffer-test-").FullName;
        var options = new CofferOptions
        {
            DataDirectory = dataDirectory,
            NodeId = "test-node",
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
        };
        configure?.Invoke(options);

        var logs = new CapturedLogs();
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var (server, info) = await DevEnvironment.StartAsync(options, loggers, time);
        return new DevServer(server, info, dataDirectory, owns, logs, loggers, configure, time);
    }

    /// <summary>Stops this node and starts a new one on the same data directory (new ports).</summary>
    public async Task<DevServer> RestartAsync()
    {
        await StopAsync();
        // The new node takes over the data directory (and deleting it at the end, if this one owned it).
        return await StartAsync(Configure, DataDirectory, Time, _ownsDirectory);
    }

    private async Task StopAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
        _loggers.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
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
