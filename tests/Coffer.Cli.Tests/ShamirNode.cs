using Coffer.Server.Hosting;
using Coffer.Testing;
using Microsoft.Extensions.Logging;

namespace Coffer.Cli.Tests;

/// <summary>A production-like node: the Shamir seal, not initialised, on loopback with a temp SQLite file.</summary>
internal sealed class ShamirNode : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly string _directory;

    private ShamirNode(CofferServer server, CapturedLogs logs, ILoggerFactory loggers, string directory)
    {
        Server = server;
        Logs = logs;
        _loggers = loggers;
        _directory = directory;
    }

    public CofferServer Server { get; }

    public CapturedLogs Logs { get; }

    public string AdminUrl => Server.AdminUrl.ToString().TrimEnd('/');

    public static async Task<ShamirNode> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("coffer-shamir-").FullName;
        var logs = new CapturedLogs();
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var server = await CofferServer.StartAsync(new CofferOptions
        {
            DataDirectory = directory,
            Seal = "shamir",
            NodeId = "shamir-test",
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
        }, loggers);
        return new ShamirNode(server, logs, loggers, directory);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _loggers.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
