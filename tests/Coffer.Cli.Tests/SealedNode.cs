using Coffer.Server.Hosting;
using Coffer.Testing;
using Microsoft.Extensions.Logging;

namespace Coffer.Cli.Tests;

/// <summary>A production-like node, not initialised, on loopback with a temp SQLite file: the Shamir
/// seal, or with a SoftHSM2 token the pkcs11 seal.</summary>
internal sealed class SealedNode : IAsyncDisposable
{
    private readonly ILoggerFactory _loggers;
    private readonly string _directory;
    private readonly SoftHsmToken? _token;

    private SealedNode(CofferServer server, CapturedLogs logs, ILoggerFactory loggers, string directory, SoftHsmToken? token)
    {
        _token = token;
        Server = server;
        Logs = logs;
        _loggers = loggers;
        _directory = directory;
    }

    public CofferServer Server { get; }

    public CapturedLogs Logs { get; }

    public string AdminUrl => Server.AdminUrl.ToString().TrimEnd('/');

    /// <summary>The Shamir seal.</summary>
    public static Task<SealedNode> StartAsync() => StartAsync(token: null);

    /// <summary>The pkcs11 seal, on a fresh SoftHSM2 token (which also holds pkcs11 key stores' keys).</summary>
    public static Task<SealedNode> StartPkcs11Async() => StartAsync(SoftHsmToken.Create());

    private static async Task<SealedNode> StartAsync(SoftHsmToken? token)
    {
        var directory = Directory.CreateTempSubdirectory("coffer-sealed-").FullName;
        var logs = new CapturedLogs();
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var server = await CofferServer.StartAsync(new CofferOptions
        {
            DataDirectory = directory,
            Seal = token is null ? "shamir" : "pkcs11",
            Pkcs11 = token is null ? null : DevServer.Pkcs11Options(token),
            NodeId = "sealed-test",
            Xks = new XksListenerOptions { Address = "127.0.0.1", Port = 0, AllowPlainHttp = true },
            Admin = new ListenerOptions { Address = "127.0.0.1", Port = 0 },
        }, loggers);
        return new SealedNode(server, logs, loggers, directory, token);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _loggers.Dispose();
        _token?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
